"""The solution-spec runner: order, reuse, --force, --until, bad specs."""

import pytest

from luban.core.errors import ConfigError, NotFoundError
from luban.pipeline import run_spec

SPEC = """
name: t
stages:
  - name: base
    use: models.tiny
    with: {{size: test, vocab_size: 400, corpus: [corpus]}}
  - name: imported
    use: models.import
    with: {{path: {model_dir}}}
"""


@pytest.fixture
def spec(tmp_path, tiny_model_dir):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("Acme X100 has a warranty of 2 years. 保修期为2年。\n" * 50)
    p = tmp_path / "luban.yaml"
    p.write_text(SPEC.format(model_dir=tiny_model_dir))
    return p


def test_second_run_reuses_every_stage(spec, ws):
    first = run_spec(spec, ws)
    assert [r.status for r in first] == ["ran", "ran"]
    second = run_spec(spec, ws)
    assert [r.status for r in second] == ["reused", "reused"]
    assert [r.artifact.id for r in second] == [r.artifact.id for r in first]
    assert ws.get("base").manifest.parents[0].path == "corpus/a.txt"


def test_changed_source_file_reruns_the_stage(spec, ws):
    run_spec(spec, ws)
    (spec.parent / "corpus" / "b.txt").write_text("A new manual page about the L2 smart lock.\n" * 30)
    again = run_spec(spec, ws)
    assert [r.status for r in again] == ["ran", "reused"]


def test_changed_config_reruns(spec, ws):
    run_spec(spec, ws)
    spec.write_text(spec.read_text().replace("vocab_size: 400", "vocab_size: 420"))
    assert [r.status for r in run_spec(spec, ws)] == ["ran", "reused"]


def test_force_and_until(spec, ws):
    assert [r.name for r in run_spec(spec, ws, until="base")] == ["base"]
    res = run_spec(spec, ws, force={"base"})
    assert [r.status for r in res] == ["ran", "ran"]
    with pytest.raises(NotFoundError, match="no stage named 'nope'"):
        run_spec(spec, ws, force={"nope"})


def test_unknown_stage_and_key(tmp_path, ws):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nstages:\n  - {name: a, use: data.curat}\n")
    with pytest.raises(NotFoundError, match="unknown stage 'data.curat'.*data.curate"):
        run_spec(p, ws)
    p.write_text("name: x\nstages:\n  - {name: a, use: models.tiny, with: {sise: test}}\n")
    with pytest.raises(ConfigError, match="unknown key 'sise'; did you mean 'size'"):
        run_spec(p, ws)
    assert ws.list() == []


def test_failing_stage_leaves_no_artifact(tmp_path, ws):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nstages:\n  - {name: a, use: models.tiny, with: {size: test, corpus: [missing/*.txt]}}\n")
    with pytest.raises(NotFoundError, match="matches no file"):
        run_spec(p, ws)
    assert ws.list() == [] and list((ws.root / "tmp").iterdir()) == []


def test_identical_output_under_a_new_key_is_reused_next_time(spec, ws):
    """A stage whose new config yields byte-identical output must still be reused on the next run."""
    run_spec(spec, ws)
    spec.write_text(spec.read_text().replace("corpus: [corpus]", "corpus: [corpus/a.txt]"))  # same files
    assert [r.status for r in run_spec(spec, ws)] == ["ran", "reused"]
    assert [r.status for r in run_spec(spec, ws)] == ["reused", "reused"]
