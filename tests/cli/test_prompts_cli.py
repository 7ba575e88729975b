"""`luban prompts add|list|show|diff` end to end on a workspace."""

from __future__ import annotations

import json
from pathlib import Path


def test_add_list_show_diff(cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    f = tmp_path / "support.yaml"
    f.write_text("system: 'You help {{ company }} customers.'\n")
    code, out, err = cli("-w", ws, "prompts", "add", "support", f, "-d", "support desk")
    assert code == 0, err
    assert "support@1" in out and "company" in out
    f.write_text("system: 'You help {{ company }} customers, politely.'\n")
    assert cli("-w", ws, "prompts", "add", "support", f)[0] == 0
    code, out, _ = cli("-w", ws, "prompts", "list", "--json")
    rows = json.loads(out)
    assert rows[0]["name"] == "support" and rows[0]["versions"] == [1, 2]
    code, out, _ = cli("-w", ws, "prompts", "show", "support@1", "--var", "company=Acme")
    assert json.loads(out) == [{"role": "system", "content": "You help Acme customers."}]
    code, out, _ = cli("-w", ws, "prompts", "diff", "support", "1")
    assert code == 0 and "politely" in out and "support@2" in out


def test_errors_are_one_line(cli, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    f = tmp_path / "t.txt"
    f.write_text("Hello {{ name }}")
    cli("-w", ws, "prompts", "add", "greet", f)
    code, _, err = cli("-w", ws, "prompts", "show", "greet", "--var", "nam=x")
    assert code == 2 and "has no variable 'nam'" in err and "Traceback" not in err
    code, _, err = cli("-w", ws, "prompts", "show", "gret@1")
    assert code == 2 and "did you mean 'greet'" in err
    code, _, err = cli("-w", ws, "prompts", "add", "greet", f)
    assert code == 2 and "unchanged" in err
