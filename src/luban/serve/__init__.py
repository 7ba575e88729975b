"""OpenAI-compatible serving: protocol types, the continuous-batching engine and backends."""
