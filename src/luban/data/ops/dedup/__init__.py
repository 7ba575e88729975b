"""dedup operators."""
