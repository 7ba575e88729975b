"""Formats: SFT, preference and text schemas — validated, converted and split into dataset artifacts.

Modules: `schemas` (read each source schema into one canonical form), `validate` (the rules every
conversation is checked against), `convert` (write the canonical form in a target schema),
`sources` (files, folders, globs, artifacts), `split` (seeded splits), `stage` (the `data.format` stage).
"""

from luban.data.formats.stage import FormatConfig, format_stage

__all__ = ["FormatConfig", "format_stage"]
