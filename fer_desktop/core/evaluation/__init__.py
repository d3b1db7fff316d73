"""Measuring: the classifier on dataset splits and photos, the detectors on boxed photos, the live benchmark."""
