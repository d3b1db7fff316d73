"""The Photos tab: the photo list, details and the saver."""
