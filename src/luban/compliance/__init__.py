"""Compliance: an evidence-based self-assessment against the Interim Measures for generative AI services,
TC260-003 / GB/T 45654-2025, GB 45438-2025 labeling, log keeping and the cross-border data rules. See
docs/compliance.md; what the rules ask is summarised in the project's compliance notes."""
