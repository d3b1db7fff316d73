"""Batch analysis: many videos in one job folder, resumable, on every core or a Dask cluster."""
