"""What is evaluated: a local model directory (transformers, batched) or a served OpenAI-compatible endpoint.

Both answer the same three questions, so every task kind runs on either:
- `generate(prompts, max_new_tokens, stop)`: greedy answers; a prompt is a chat (list of messages) or raw text;
- `loglikelihood(pairs)`: log P(continuation | context), the context and continuation split into tokens the
  way lm-evaluation-harness does (encode the whole, take the tokens after the context's), so scores compare;
- `token_nll(texts, max_length)`: summed negative log-likelihood and token count per text (perplexity).

Design choices: the local model sorts a batch by length (less padding) and restores the order; the endpoint
runs `concurrency` requests at once through the official `openai` client. An endpoint gives log-likelihoods
only through the legacy completions API with `echo` and `logprobs` (vLLM does); one that does not is a clear
error that says to evaluate that task on the model directory instead.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from luban.core import progress
from luban.core.errors import UsageError
from luban.models.loading import load_causal_lm, load_tokenizer

if TYPE_CHECKING:
    import torch

Prompt = str | list[dict[str, str]]


class Target(Protocol):
    name: str

    def generate(self, prompts: list[Prompt], max_new_tokens: int, stop: list[str]) -> list[str]: ...

    def loglikelihood(self, pairs: list[tuple[str, str]]) -> list[float]: ...

    def token_nll(self, texts: list[str], max_length: int) -> list[tuple[float, int]]: ...


def cut_at_stop(text: str, stop: list[str]) -> str:
    """`text` up to the first of the stop strings (what a server's `stop` does)."""
    ends = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(ends)] if ends else text


def split_pair(context: str, continuation: str) -> tuple[str, str]:
    """lm-eval's rule: trailing spaces of the context move to the continuation before tokenizing."""
    n = len(context) - len(context.rstrip(" "))
    return (context[:-n], context[-n:] + continuation) if n else (context, continuation)


class LocalModel:
    """A Hugging Face model directory (or adapter), loaded once, answering in batches."""

    def __init__(self, model_dir: str | Path, batch_size: int = 16, name: str | None = None) -> None:
        self.path = Path(model_dir)
        self.name = name or self.path.name
        self.batch_size = batch_size
        self.tokenizer = load_tokenizer(self.path)
        self.model = load_causal_lm(self.path)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def _text(self, prompt: Prompt) -> str:
        if isinstance(prompt, str):
            return prompt
        return str(self.tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True))

    def generate(self, prompts: list[Prompt], max_new_tokens: int, stop: list[str]) -> list[str]:
        import torch

        tok = self.tokenizer
        tok.padding_side = "left"
        texts = [self._text(p) for p in prompts]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: dict[int, str] = {}
        with progress.task(f"Generating with {self.name[:24]}", total=len(texts)) as t:
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                enc = tok([texts[i] for i in idx], return_tensors="pt", padding=True,
                          add_special_tokens=False).to(self.model.device)
                with torch.inference_mode():
                    gen = self.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                              pad_token_id=tok.pad_token_id)
                for i, row in zip(idx, tok.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)):
                    out[i] = cut_at_stop(row, stop).strip()
                t.advance(len(idx))
        return [out[i] for i in range(len(texts))]

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def loglikelihood(self, pairs: list[tuple[str, str]]) -> list[float]:
        seqs = []
        for context, continuation in pairs:
            context, continuation = split_pair(context, continuation)
            whole = self._encode(context + continuation)
            n_ctx = len(self._encode(context))
            if n_ctx == 0:  # nothing to condition on: start from the BOS/EOS token as lm-eval does
                whole = [self.tokenizer.bos_token_id or self.tokenizer.eos_token_id, *whole]
                n_ctx = 1
            seqs.append((whole, n_ctx))
        return [s for s, _ in self._score(seqs, "Scoring choices")]

    def token_nll(self, texts: list[str], max_length: int) -> list[tuple[float, int]]:
        bos = self.tokenizer.bos_token_id or self.tokenizer.eos_token_id
        seqs = [([bos, *self._encode(t)][:max_length], 1) for t in texts]
        return [(-s, n) for s, n in self._score(seqs, "Perplexity")]

    def _score(self, seqs: list[tuple[list[int], int]], label: str) -> list[tuple[float, int]]:
        """Sum of log-probabilities of tokens[n_ctx:] given what precedes them, and how many there are."""
        import torch

        order = sorted(range(len(seqs)), key=lambda i: -len(seqs[i][0]))
        out: dict[int, tuple[float, int]] = {}
        pad = self.tokenizer.pad_token_id
        with progress.task(f"{label} with {self.name[:24]}", total=len(seqs)) as t:
            for start in range(0, len(order), self.batch_size):
                idx = order[start:start + self.batch_size]
                width = max(len(seqs[i][0]) for i in idx)
                ids = torch.full((len(idx), width), pad, dtype=torch.long)
                mask = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    toks = seqs[i][0]
                    ids[row, : len(toks)] = torch.tensor(toks)
                    mask[row, : len(toks)] = 1
                with torch.inference_mode():
                    logits = self.model(input_ids=ids.to(self.model.device),
                                        attention_mask=mask.to(self.model.device)).logits.float()
                logp = torch.log_softmax(logits, dim=-1)
                for row, i in enumerate(idx):
                    toks, n_ctx = seqs[i]
                    out[i] = _sum_logprobs(logp[row], toks, n_ctx)
                t.advance(len(idx))
        return [out[i] for i in range(len(seqs))]


def _sum_logprobs(logp: torch.Tensor, toks: list[int], n_ctx: int) -> tuple[float, int]:
    import torch

    target = torch.tensor(toks[n_ctx:], device=logp.device)
    picked = logp[n_ctx - 1: len(toks) - 1].gather(-1, target.unsqueeze(-1)).squeeze(-1)
    return float(picked.sum()), len(toks) - n_ctx


class Endpoint:
    """An OpenAI-compatible server (`luban serve`, the gateway, vLLM, a commercial API)."""

    def __init__(self, url: str, model: str, api_key: str | None = None, concurrency: int = 8,
                 timeout: float = 120.0, name: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.name = name or model
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "none"
        self.concurrency = concurrency
        self.timeout = timeout

    def _run(self, label: str, n: int, call: Callable[[Any, int], Any]) -> list[Any]:
        import openai

        async def main() -> list[Any]:
            client = openai.AsyncOpenAI(base_url=self.url, api_key=self.api_key, max_retries=2, timeout=self.timeout)
            sem = asyncio.Semaphore(self.concurrency)

            async def one(i: int) -> Any:
                async with sem:
                    try:
                        res = await call(client, i)
                    except openai.APIConnectionError:
                        raise UsageError(f"cannot reach {self.url}", "start the server or fix the URL") from None
                    except openai.APIStatusError as err:
                        raise UsageError(f"{self.url} answered {err.status_code} on item {i + 1}: {err.message}",
                                         "check the model name, the key and the request") from None
                t.advance(1)
                return res

            try:
                return list(await asyncio.gather(*(one(i) for i in range(n))))
            finally:
                await client.close()

        with progress.task(f"{label} at {self.url}", total=n) as t:
            return asyncio.run(main())

    def generate(self, prompts: list[Prompt], max_new_tokens: int, stop: list[str]) -> list[str]:
        async def call(client: Any, i: int) -> str:
            p = prompts[i]
            kw: dict[str, Any] = {"model": self.model, "max_tokens": max_new_tokens, "temperature": 0}
            if stop:
                kw["stop"] = stop[:4]  # the OpenAI API takes at most four; the rest are cut below
            if isinstance(p, str):
                res = await client.completions.create(prompt=p, **kw)
                text = res.choices[0].text or ""
            else:
                res = await client.chat.completions.create(messages=p, **kw)
                text = res.choices[0].message.content or ""
            return cut_at_stop(text, stop).strip()

        return self._run("Generating", len(prompts), call)

    def _echo_logprobs(self, texts: list[str], label: str) -> list[tuple[list[int], list[float | None]]]:
        async def call(client: Any, i: int) -> tuple[list[int], list[float | None]]:
            import openai

            try:
                res = await client.completions.create(model=self.model, prompt=texts[i], max_tokens=1,
                                                      temperature=0, logprobs=1, echo=True)
            except openai.BadRequestError as err:
                raise UsageError(f"{self.url} does not return prompt log-probabilities (echo with logprobs): "
                                 f"{err.message}", "score log-likelihood tasks on the model directory "
                                 "(--model) or on a server that supports echo (vLLM)") from None
            lp = res.choices[0].logprobs
            if lp is None or lp.token_logprobs is None or lp.text_offset is None:
                raise UsageError(f"{self.url} returned no logprobs", "use a server that supports echo with logprobs")
            return list(lp.text_offset), list(lp.token_logprobs)

        return self._run(label, len(texts), call)

    def loglikelihood(self, pairs: list[tuple[str, str]]) -> list[float]:
        split = [split_pair(c, x) for c, x in pairs]
        prompts = [c + x for c, x in split]
        rows = self._echo_logprobs(prompts, "Scoring choices")
        # the continuation's tokens start at or after the context's end and inside the prompt; a generated
        # token (max_tokens=1; vLLM lists it, llama-cpp-python does not) starts at the prompt's end
        return [sum(lp or 0.0 for off, lp in zip(offsets, lps) if len(context) <= off < len(prompt))
                for (context, _), prompt, (offsets, lps) in zip(split, prompts, rows)]

    def token_nll(self, texts: list[str], max_length: int) -> list[tuple[float, int]]:
        rows = self._echo_logprobs(texts, "Perplexity")
        out = []
        for text, (offsets, lps) in zip(texts, rows):
            # the first token has no logprob (nothing before it), as Luban's local scorer starts after BOS
            scored = [lp for off, lp in zip(offsets, lps) if off < len(text) and lp is not None][: max_length - 1]
            out.append((-sum(scored), len(scored)))
        return out
