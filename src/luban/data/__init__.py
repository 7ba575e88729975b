"""Data layer: read raw files, clean, filter, deduplicate, desensitize, format; results are dataset artifacts."""
