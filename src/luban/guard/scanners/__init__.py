"""Scanners turn text into verdicts (lexicon, PII, ...); shared by data curation and the gateway."""
