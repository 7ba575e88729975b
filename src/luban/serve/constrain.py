"""Constrained decoding for `response_format` (JSON object / JSON schema) through llguidance.

llguidance (the engine behind Guidance, also used by vLLM and SGLang) compiles a JSON schema into a
grammar and, at each step, gives the set of allowed next tokens as a bitmask in ~microseconds; we
apply it to that row's logits. Whitespace is not flexible, so a small model cannot wander off into
endless spaces, and the grammar ends the sequence (EOS) once the JSON value is complete.
"""

from __future__ import annotations

import json
from typing import Any

import torch

from luban.core.errors import UsageError
from luban.serve.backends.base import Constraint


class ConstraintFactory:
    """Builds one matcher per sequence for a given tokenizer (the tokenizer index is built once)."""

    def __init__(self, tokenizer: Any, vocab_size: int, eos_ids: list[int]) -> None:
        import llguidance.hf

        self.vocab_size = vocab_size
        self.lltok = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size, eos_token=eos_ids[0])

    def grammar(self, c: Constraint) -> str:
        import llguidance

        schema: dict[str, Any] = dict(c.schema or {}) if c.kind == "json_schema" else {"type": "object"}
        schema.setdefault("x-guidance", {"whitespace_flexible": False, "lenient": True})
        return str(llguidance.LLMatcher.grammar_from_json_schema(json.dumps(schema)))

    def matcher(self, c: Constraint) -> Any:
        import llguidance

        try:
            m = llguidance.LLMatcher(self.lltok, self.grammar(c))
            error = m.get_error() if m.is_error() else None
        except Exception as err:  # noqa: BLE001 - any schema the compiler rejects is the caller's input
            m, error = None, str(err)
        if error:
            raise UsageError(f"the JSON schema cannot be used for constrained decoding: {error[:300]}",
                             "simplify the JSON schema")
        return m


def apply_masks(logits: torch.Tensor, rows: list[int], matchers: list[Any], vocab_size: int) -> None:
    """Restrict `logits[rows[j]]` to the tokens `matchers[j]` allows, in place."""
    import llguidance.torch as lt

    bitmask = lt.allocate_token_bitmask(len(rows), vocab_size)
    for j, m in enumerate(matchers):
        lt.fill_next_token_bitmask(m, bitmask, j)
    idx = torch.tensor(rows, dtype=torch.long, device=logits.device)
    sub = logits[idx].float().cpu()
    extra = sub[:, vocab_size:]
    sub = sub[:, :vocab_size].contiguous()
    lt.apply_token_bitmask_inplace(sub, bitmask)
    full = torch.cat([sub, torch.full_like(extra, float("-inf"))], dim=1)
    logits[idx] = full.to(logits.dtype).to(logits.device)
