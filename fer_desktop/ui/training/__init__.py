"""The Training tab: the form, run status, curves and confusion matrices."""
