"""fer_training: train emotion classifiers for fer_desktop (Qt-free; CLI `fer-train`)."""
