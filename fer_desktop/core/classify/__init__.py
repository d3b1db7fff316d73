"""The emotion classifier: face crops, the ONNX Runtime and torch backends, the network zoo, ensembles."""
