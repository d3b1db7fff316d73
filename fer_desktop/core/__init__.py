"""Qt-free core: detectors, classifier, pipeline, tracking, overlay, datasets. Never imports Qt."""
