"""The front door: keys and roles, routing, cache, rate limits, usage and cost, prompt templates, hook points."""
