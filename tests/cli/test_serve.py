"""`luban serve` prints where it listens and how to call it."""

from luban.cli import serve


def test_banner_shows_url_curl_and_sdk(capsys) -> None:  # type: ignore[no-untyped-def]
    serve._print_banner("0.0.0.0", 8123, ["acme", "acme:support"])
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8123/v1" in out
    assert "curl http://127.0.0.1:8123/v1/chat/completions" in out and '"model": "acme"' in out
    assert "from openai import OpenAI" in out


def test_commands_are_exposed_for_mounting() -> None:
    assert callable(serve.serve_command) and callable(serve.engine_command)
    assert {c.name for c in serve.app.registered_commands} == {"serve", "engine"}
