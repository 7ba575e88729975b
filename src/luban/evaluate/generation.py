"""Batched greedy answers from a model directory, through its own chat template."""

from __future__ import annotations

from pathlib import Path

from luban.core import progress
from luban.models.loading import load_causal_lm, load_tokenizer


def answer_questions(model_dir: Path, questions: list[str], max_new_tokens: int = 48,
                     batch_size: int = 16, system_prompt: str | None = None) -> list[str]:
    import torch

    tokenizer = load_tokenizer(model_dir)
    model = load_causal_lm(model_dir)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    answers: list[str] = []
    with progress.task(f"Answering with {model_dir.name[:24]}", total=len(questions)) as t:
        for start in range(0, len(questions), batch_size):
            chunk = questions[start:start + batch_size]
            prompts = []
            for q in chunk:
                msgs = ([{"role": "system", "content": system_prompt}] if system_prompt else [])
                msgs.append({"role": "user", "content": q})
                prompts.append(tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True))
            enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            with torch.inference_mode():
                out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                     pad_token_id=tokenizer.pad_token_id)
            new = out[:, enc["input_ids"].shape[1]:]
            answers.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
            t.advance(len(chunk))
    return [a.strip() for a in answers]
