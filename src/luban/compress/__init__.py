"""Compress layer: merge adapters, export to GGUF and ONNX (quantization and pruning to come); model artifacts in, model artifacts out."""
