"""Drawing results on frames: boxes, labels, emoji, banners; the confusion-matrix colour map."""
