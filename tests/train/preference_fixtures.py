"""Preference pairs for the DPO / reward / GRPO tests, and the log-probability the tests measure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from train_fixtures import QA, make_dataset

from luban.core.artifact import Artifact
from luban.core.workspace import Workspace

WRONG = ["I do not know.", "Bananas are yellow.", "Please call later."]


def pair_rows(n: int = 12) -> list[dict[str, object]]:
    return [{"prompt": QA[i % 3][0], "chosen": QA[i % 3][1], "rejected": WRONG[i % 3], "system": ""}
            for i in range(n)]


def make_pairs(ws: Workspace, name: str = "pairs", n: int = 12) -> Artifact:
    return make_dataset(ws, name, pair_rows(n))


def answer_logprob(model: Any, tokenizer: Any, prompt: str, answer: str) -> float:
    """Sum of log p(answer tokens | chat-rendered prompt)."""
    import torch

    head = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=True,
                                         add_generation_prompt=True, return_dict=True)["input_ids"]
    full = tokenizer.apply_chat_template([{"role": "user", "content": prompt},
                                          {"role": "assistant", "content": answer}], tokenize=True,
                                         return_dict=True)["input_ids"]
    ids = torch.tensor([full])
    with torch.no_grad():
        logp = model(input_ids=ids).logits.log_softmax(-1)[0, :-1]
    targets = ids[0, 1:]
    picked = logp.gather(1, targets[:, None])[:, 0]
    return float(picked[len(head) - 1:].sum())


def preference_margin(model_dir: Path) -> float:
    """Mean log p(chosen) - log p(rejected) over the training prompts."""
    from luban.models.loading import load_causal_lm, load_tokenizer

    model, tok = load_causal_lm(model_dir, device="cpu"), load_tokenizer(model_dir)
    rows = pair_rows(3)
    return sum(answer_logprob(model, tok, str(r["prompt"]), str(r["chosen"]))
               - answer_logprob(model, tok, str(r["prompt"]), str(r["rejected"])) for r in rows) / len(rows)
