"""A request body over the engine's limit gets 413 with a one-line message naming the limit and how to raise it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest


@pytest.fixture
def engine_url(tiny_model_dir: Path, start_server: Any) -> str:
    """`luban engine` (no gateway in front) with a 0.01 MiB body limit."""
    url: str = start_server([str(tiny_model_dir), "--name", "tiny", "--max-body-mb", "0.01"], command="engine").url
    return url


def _check_413(res: httpx.Response) -> None:
    assert res.status_code == 413, res.text
    err = res.json()["error"]
    assert err["type"] == "invalid_request_error" and err["code"] == "request_too_large"
    assert "at most 0.01 MiB (10,485 bytes)" in err["message"] and "--max-body-mb" in err["message"]
    assert "\n" not in err["message"]


def test_bodies_over_the_limit_get_413_naming_it_and_smaller_ones_are_served(engine_url: str) -> None:
    body = {"model": "tiny", "prompt": "x" * 20_000, "max_tokens": 1}
    res = httpx.post(engine_url + "/v1/completions", json=body, timeout=30)
    _check_413(res)
    assert "is 20,0" in res.json()["error"]["message"]  # the body's size, from Content-Length

    def chunks() -> Iterator[bytes]:
        yield b'{"model": "tiny", "prompt": "'
        for _ in range(10):
            yield b"x" * 2000
        yield b'", "max_tokens": 1}'

    res = httpx.post(engine_url + "/v1/completions", content=chunks(), timeout=30,
                     headers={"content-type": "application/json"})
    _check_413(res)  # without Content-Length: read up to the limit, then refused

    def small() -> Iterator[bytes]:
        yield b'{"model": "tiny", "prompt": "hello", '
        yield b'"max_tokens": 2}'

    for kw in ({"json": {"model": "tiny", "prompt": "hello", "max_tokens": 2}},
               {"content": small(), "headers": {"content-type": "application/json"}}):
        res = httpx.post(engine_url + "/v1/completions", timeout=60, **kw)  # type: ignore[arg-type]
        assert res.status_code == 200, res.text
        assert res.json()["usage"]["completion_tokens"] >= 1
    assert 'status="413"} 2.0' in httpx.get(engine_url + "/metrics", timeout=10).text


@pytest.mark.parametrize("args, message", [
    (["--max-body-mb", "0"], "Invalid value for --max-body-mb: the size must be positive"),
    (["--prefix-cache", "lots"], "Invalid value for --prefix-cache: 'lots' is not a size; write e.g. 8GB or 512MB"),
])
def test_bad_limits_on_the_command_line_are_one_line_errors(tmp_path: Path, args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from luban.cli.serve import app

    res = CliRunner().invoke(app, ["engine", str(tmp_path), *args])
    flat = "".join(res.output.replace("│", "").split())  # rich wraps the message in a box
    assert res.exit_code == 2 and "".join(message.split()) in flat
