"""Data operators (cleaning, quality, dedup, PII, safety) registered by name; see `registry.py`."""
