"""CLI habits: --help with examples, one-line errors, exit codes, and bad input leaves the workspace as it was."""

import json

import pytest

from luban.cli.main import app


def snapshot(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else None


def test_every_command_help_has_an_example(cli):
    import typer

    group = typer.main.get_command(app)
    seen = 0

    def walk(cmd, path):
        nonlocal seen
        for name, sub in getattr(cmd, "commands", {}).items():
            if getattr(sub, "commands", None):
                walk(sub, path + [name])
            else:
                code, out, _ = cli(*path, name, "--help")
                assert code == 0, (path, name)
                assert "Example" in out, f"`luban {' '.join(path + [name])} --help` shows no example"
                seen += 1

    walk(group, [])
    assert seen >= 8


def test_version_and_no_args(cli):
    code, out, _ = cli("--version")
    assert code == 0 and out.startswith("luban ")


def test_missing_yaml(cli, tmp_path):
    ws = tmp_path / "ws"
    code, _, err = cli("-w", ws, "run", tmp_path / "nope.yaml")
    assert code == 2 and "does not exist" in err and len(err.strip().splitlines()) == 1
    assert snapshot(ws) is None or snapshot(ws) == snapshot(ws)


def test_malformed_yaml(cli, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nstages: [\n")
    code, _, err = cli("-w", tmp_path / "ws", "run", p)
    assert code == 2 and "bad.yaml" in err and "line" in err and "Traceback" not in err


def test_unknown_stage(cli, tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: x\nstages:\n  - {name: a, use: train.sfft}\n")
    ws = tmp_path / "ws"
    code, _, err = cli("-w", ws, "run", p)
    assert code == 2 and "unknown stage 'train.sfft'" in err and "train.sft" in err
    assert snapshot(ws) is None


def test_nonexistent_artifact(cli, tmp_path, ws):
    with ws.create("dataset", "real", "t") as pnd:
        (pnd.path / "a").write_text("a")
    before = snapshot(ws.root)
    for cmd in ("show", "lineage", "rm"):
        code, _, err = cli("-w", ws.root, cmd, "reel")
        assert code == 2 and "no artifact named 'reel'" in err, (cmd, err)
    assert snapshot(ws.root) == before


def test_read_only_workspace(cli, tmp_path, read_only_dir, tiny_model_dir):
    spec = tmp_path / "s.yaml"
    spec.write_text(f"name: x\nstages:\n  - {{name: m, use: models.import, with: {{path: {tiny_model_dir}}}}}\n")
    before = snapshot(read_only_dir)
    code, _, err = cli("-w", read_only_dir, "run", spec)
    assert code == 2 and "not writable" in err
    assert snapshot(read_only_dir) == before


def test_model_dir_without_tokenizer(cli, tmp_path, tiny_model_dir):
    import shutil

    broken = tmp_path / "no-tok"
    shutil.copytree(tiny_model_dir, broken)
    for f in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json"):
        (broken / f).unlink(missing_ok=True)
    spec = tmp_path / "s.yaml"
    spec.write_text(f"name: x\nstages:\n  - {{name: m, use: models.import, with: {{path: {broken}}}}}\n")
    ws = tmp_path / "ws"
    code, _, err = cli("-w", ws, "run", spec)
    assert code == 2 and "has no tokenizer" in err
    assert not any((ws / "artifacts").rglob("*.safetensors")) if ws.exists() else True


def test_corpus_matching_no_file(cli, tmp_path):
    code, _, err = cli("models", "tiny", "--corpus", tmp_path / "none/*.md", "--out", tmp_path / "out")
    assert code == 2 and "matches no file" in err
    assert not (tmp_path / "out").exists()


def test_ls_show_lineage_json(cli, ws, tmp_path):
    from luban.core.artifact import artifact_parent, file_parent

    src = tmp_path / "raw.md"
    src.write_text("raw")
    with ws.create("dataset", "d", "t", parents=[file_parent(src, "f" * 64)]) as a:
        (a.path / "x").write_text("x")
    with ws.create("model", "m", "t", parents=[artifact_parent(a.result, "data")]) as b:
        (b.path / "y").write_text("y")
    code, out, _ = cli("-w", ws.root, "ls")
    assert code == 0 and "d" in out and "model" in out
    code, out, _ = cli("-w", ws.root, "lineage", "m", "--json")
    tree = json.loads(out)
    assert tree["children"][0]["label"] == "d" and tree["children"][0]["children"][0]["path"] == str(src)
    code, out, _ = cli("-w", ws.root, "lineage", "m")
    assert code == 0 and "raw.md" in out and "sha256:ffffffffffff" in out


def test_ls_never_cuts_a_name(cli, ws):
    names = ["acme-support-chat-lora-sft-final-v2", "acme-support-chat-lora-sft-final-v2-merged-q4"]
    for i, name in enumerate(names):
        with ws.create("model", name, "compress.quantize-with-a-long-stage-name") as a:
            (a.path / "x").write_text(str(i))
    code, out, _ = cli("-w", ws.root, "ls")
    assert code == 0 and all(n in out for n in names), out


@pytest.mark.parametrize("stage", ["models.tiny", "evaluate.qa", "pipeline"])
def test_config_schema(cli, stage):
    code, out, err = cli("config", "schema", stage)
    if stage == "pipeline":
        assert code == 2 and "unknown stage" in err
    else:
        assert code == 0 and json.loads(out)["additionalProperties"] is False


BRACKETED = "[/x/pair.cc:553] Connection closed by peer [bold]"


@pytest.mark.parametrize(("raised", "code", "prefix"), [
    ("stage", 1, "error: "),
    ("usage", 2, "error: "),
    ("runtime", 1, "error: RuntimeError: "),
])
def test_error_with_square_brackets_is_printed_literally(cli, tmp_path, monkeypatch, raised, code, prefix):
    """gloo's errors start with `[/path/pair.cc:553]`; rich must not read them as markup."""
    from luban.cli import run as run_cli
    from luban.core.errors import StageError, UsageError

    error = {"stage": StageError(BRACKETED), "usage": UsageError(BRACKETED), "runtime": RuntimeError(BRACKETED)}

    def fail(*args, **kwargs):
        raise error[raised]

    monkeypatch.setattr(run_cli, "run_spec", fail)
    spec = tmp_path / "s.yaml"
    spec.write_text("name: x\nstages: []\n")
    got, _, err = cli("-w", tmp_path / "ws", "run", spec)
    assert got == code
    assert err.strip().splitlines() == [err.strip()]
    assert err.strip().startswith(prefix + BRACKETED)


def test_progress_log_with_square_brackets_is_printed_literally(capsys):
    from luban.cli.progress_view import RichReporter

    RichReporter().log(BRACKETED)
    assert capsys.readouterr().err.strip() == BRACKETED
def test_usage_error_with_square_brackets_is_printed_literally(cli, tmp_path):
    code, _, err = cli("-w", tmp_path / "ws", "ls", "--x[bold]")
    assert code == 2 and "--x[bold]" in err and "MarkupError" not in err




def test_usage_errors_exit_2_with_the_command_to_get_help_for(cli, tmp_path):
    code, _, err = cli("-w", tmp_path / "ws", "run")
    assert code == 2 and "Missing" in err and "luban run --help" in err and "--debug" not in err


def test_interrupt_exits_130_and_says_nothing_was_kept(cli, tmp_path, monkeypatch):
    from luban.cli import run as run_cli

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cli, "run_spec", interrupt)
    spec = tmp_path / "s.yaml"
    spec.write_text("name: x\nstages: []\n")
    code, _, err = cli("-w", tmp_path / "ws", "run", spec)
    assert code == 130 and "interrupted" in err


def test_lineage_prints_bracketed_file_names_literally(cli, ws, tmp_path):
    from luban.core.artifact import file_parent

    src = tmp_path / "[draft] notes [bold].md"
    src.write_text("raw")
    with ws.create("dataset", "d", "t", parents=[file_parent(src, "f" * 64)]) as a:
        (a.path / "x").write_text("x")
    code, out, _ = cli("-w", ws.root, "lineage", "d")
    assert code == 0 and "[draft] notes [bold].md" in " ".join(out.split())  # rich may wrap the line
