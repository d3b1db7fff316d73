"""The training contracts shared by the app and fer-train: config, run folder, events, datasets, metrics."""
