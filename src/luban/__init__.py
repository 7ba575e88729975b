"""Luban: from raw enterprise data to your own guarded LLM behind an OpenAI-compatible API."""

__version__ = "0.1.0"
