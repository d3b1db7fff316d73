"""The Videos tab and the session window."""
