"""/v1/completions with `echo` and `logprobs`: the prompt's own logprobs in OpenAI's legacy format, as
lm-evaluation-harness's `local-completions` and Luban's endpoint evaluator read them; bad combinations are 400s."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import OpenAI

PROMPT = "Acme Robotics makes robot vacuums"


@pytest.fixture(scope="module")
def client(server: Any) -> OpenAI:
    return OpenAI(base_url=server.url + "/v1", api_key="none", max_retries=0)


def test_echo_with_logprobs_returns_the_prompts_logprobs(client: OpenAI) -> None:
    res = client.completions.create(model="tiny", prompt=PROMPT, max_tokens=1, temperature=0, logprobs=1, echo=True)
    choice = res.choices[0]
    lp = choice.logprobs
    assert lp is not None and lp.tokens and lp.token_logprobs and lp.top_logprobs and lp.text_offset is not None
    prompt_tokens = res.usage.prompt_tokens if res.usage else 0
    assert len(lp.tokens) == prompt_tokens + 1  # every prompt token, then the generated one
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
    assert all(isinstance(v, float) and v <= 0 for v in lp.token_logprobs[1:])
    assert all(len(t) == 1 for t in lp.top_logprobs[1:])
    # the chosen token is at most as likely as the most likely one
    assert all(v <= max(t.values()) + 1e-6 for v, t in zip(lp.token_logprobs[1:], lp.top_logprobs[1:]))
    assert choice.text.startswith(PROMPT)
    assert "".join(lp.tokens[:prompt_tokens]) == PROMPT
    assert lp.text_offset[:prompt_tokens] == [len("".join(lp.tokens[:k])) for k in range(prompt_tokens)]
    assert lp.text_offset[prompt_tokens] == len(PROMPT)


def test_max_tokens_zero_scores_the_prompt_alone_and_token_prompts_are_echoed_as_text(client: OpenAI) -> None:
    text = client.completions.create(model="tiny", prompt=PROMPT, max_tokens=0, logprobs=0, echo=True).choices[0]
    assert text.text == PROMPT and text.finish_reason == "length"
    assert text.logprobs is not None and text.logprobs.top_logprobs is not None
    assert all(t == {} for t in text.logprobs.top_logprobs[1:])
    plain = client.completions.create(model="tiny", prompt=PROMPT, max_tokens=0, echo=True)
    assert plain.choices[0].text == PROMPT and plain.choices[0].logprobs is None
    assert plain.usage is not None and plain.usage.completion_tokens == 0
    scored = client.completions.create(model="tiny", prompt=[[5, 6, 7, 8], [9, 10]], max_tokens=0, logprobs=2,
                                       echo=True)
    first, second = sorted(scored.choices, key=lambda c: c.index)
    assert first.logprobs is not None and first.logprobs.token_logprobs is not None
    assert len(first.logprobs.token_logprobs) == 4 and first.logprobs.token_logprobs[0] is None
    assert second.logprobs is not None and second.logprobs.tokens is not None and len(second.logprobs.tokens) == 2
    assert first.text == "".join(first.logprobs.tokens or [])
    # the same prompt scored twice gives the same figures (no state leaks between requests)
    again = client.completions.create(model="tiny", prompt=[5, 6, 7, 8], max_tokens=0, logprobs=2, echo=True)
    assert again.choices[0].logprobs is not None
    assert again.choices[0].logprobs.token_logprobs == pytest.approx(first.logprobs.token_logprobs)


@pytest.mark.parametrize("extra, message", [
    ({"echo": True, "logprobs": 1, "stream": True}, "echo with logprobs returns the prompt's logprobs only "
                                                    "without stream"),
    ({"logprobs": 21}, "Invalid request at 'logprobs': Input should be less than or equal to 20"),
    ({"logprobs": -1}, "Invalid request at 'logprobs': Input should be greater than or equal to 0"),
    ({"max_tokens": 0}, "max_tokens 0 generates nothing: it is meant with echo"),
])
def test_bad_echo_and_logprobs_requests_are_clear_400s(client: OpenAI, extra: dict[str, Any], message: str) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model="tiny", prompt=PROMPT, **extra)
    body = err.value.body
    assert isinstance(body, dict) and message in body["message"] and "\n" not in body["message"]
