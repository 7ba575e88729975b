"""The solution-spec runner: order, reuse, --force, --until, bad specs, and ids that do not depend on
the working folder."""

import pytest

from luban.core.errors import ConfigError, NotFoundError
from luban.core.workspace import Workspace
from luban.pipeline import run_spec

SPEC = """
name: t
stages:
  - name: corpus
    use: data.curate
    with: {{inputs: [corpus], process: [], workers: 1}}
  - name: base
    use: models.tiny
    from: {{corpus: corpus}}
    with: {{size: test, vocab_size: 400}}
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
    assert [r.status for r in first] == ["ran", "ran", "ran"]
    second = run_spec(spec, ws)
    assert [r.status for r in second] == ["reused", "reused", "reused"]
    assert [r.artifact.id for r in second] == [r.artifact.id for r in first]
    assert ws.get("corpus").manifest.parents[0].path == "corpus/a.txt"  # relative to the spec's folder


def test_changed_source_file_reruns_the_stage(spec, ws):
    run_spec(spec, ws)
    (spec.parent / "corpus" / "b.txt").write_text("A new manual page about the L2 smart lock.\n" * 30)
    again = run_spec(spec, ws)
    assert [r.status for r in again] == ["ran", "ran", "reused"]


def test_changed_config_reruns(spec, ws):
    run_spec(spec, ws)
    spec.write_text(spec.read_text().replace("vocab_size: 400", "vocab_size: 420"))
    assert [r.status for r in run_spec(spec, ws)] == ["reused", "ran", "reused"]


def test_force_and_until(spec, ws):
    assert [r.name for r in run_spec(spec, ws, until="base")] == ["corpus", "base"]
    res = run_spec(spec, ws, force={"base"})
    assert [r.status for r in res] == ["reused", "ran", "ran"]
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
    p.write_text("name: x\nstages:\n  - {name: a, use: data.curate, with: {inputs: [missing/*.txt]}}\n")
    with pytest.raises(NotFoundError, match="matches no file"):
        run_spec(p, ws)
    assert ws.list() == [] and list((ws.root / "tmp").iterdir()) == []


def test_identical_output_under_a_new_key_is_reused_next_time(spec, ws):
    """A stage whose new config yields byte-identical output must still be reused on the next run."""
    run_spec(spec, ws)
    spec.write_text(spec.read_text().replace("inputs: [corpus]", "inputs: [corpus/a.txt]"))  # same files
    assert [r.status for r in run_spec(spec, ws)] == ["ran", "reused", "reused"]
    assert [r.status for r in run_spec(spec, ws)] == ["reused", "reused", "reused"]


TWO_FOLDERS = """
name: t
stages:
  - name: corpus
    use: data.curate
    config: recipes/recipe.yaml      # its paths are relative to recipes/
  - name: sft
    use: data.format
    with: {inputs: [sft.jsonl], to: chat}
  - name: again
    use: data.format
    with: {inputs: [sft], to: chat}   # an artifact name, not a path
"""


@pytest.fixture
def spec_in_folders(tmp_path):
    root = tmp_path / "project"
    (root / "recipes" / "raw").mkdir(parents=True)
    (root / "recipes" / "raw" / "a.txt").write_text("The X100 robot vacuum has a warranty of 2 years.\n")
    (root / "recipes" / "raw" / "b.md").write_text("# Returns\n\nReturns are accepted within 30 days.\n")
    (root / "recipes" / "recipe.yaml").write_text("inputs: [raw/]\nprocess: [{whitespace: {}}]\nworkers: 1\n")
    (root / "sft.jsonl").write_text('{"messages": [{"role": "user", "content": "Warranty?"}, '
                                    '{"role": "assistant", "content": "2 years."}]}\n')
    (root / "luban.yaml").write_text(TWO_FOLDERS)
    for d in ("a", "b/c"):
        (tmp_path / d).mkdir(parents=True)
    return root / "luban.yaml"


def test_the_same_spec_from_two_working_folders_gives_the_same_ids_and_run_keys(spec_in_folders, monkeypatch):
    runs = []
    for cwd in ("a", "b/c"):
        monkeypatch.chdir(spec_in_folders.parent.parent / cwd)
        ws = Workspace(spec_in_folders.parent.parent / cwd / "ws")  # a fresh workspace: nothing reused
        runs.append([(r.status, r.artifact.id, r.artifact.manifest.producer.run_key)
                     for r in run_spec(spec_in_folders, ws)])
        corpus = ws.get("corpus")
        assert {p.path for p in corpus.manifest.parents} == {"recipes/raw/a.txt", "recipes/raw/b.md"}
        assert corpus.manifest.producer.config["inputs"] == ["recipes/raw"]
        assert [p.path for p in ws.get("sft").manifest.parents] == ["sft.jsonl"]
        ws.close()
    assert runs[0] == runs[1] and [s for s, _, _ in runs[0]] == ["ran", "ran", "ran"]


def test_a_folder_named_like_a_config_value_changes_nothing(spec_in_folders, ws, tmp_path):
    root = spec_in_folders.parent
    spill = tmp_path / "spill"
    spec_in_folders.write_text(TWO_FOLDERS.replace("with: {inputs: [sft.jsonl], to: chat}",
                                                   "with: {inputs: [sft.jsonl], to: chat, splits: {train: 1.0}}")
                               .replace("config: recipes/recipe.yaml",
                                        f"config: recipes/recipe.yaml\n    with: {{spill_dir: {spill}}}"))
    run_spec(spec_in_folders, ws)
    for unrelated in (root / "train", root / "chat", spill / "leftover"):  # like `train` split, `to: chat`
        unrelated.mkdir(parents=True, exist_ok=True)
        (unrelated / "x.txt").write_text("not an input")
    assert [r.status for r in run_spec(spec_in_folders, ws)] == ["reused", "reused", "reused"]
    (root / "recipes" / "raw" / "a.txt").write_text("The X100 warranty is now 3 years.\n")  # a declared input
    assert [r.status for r in run_spec(spec_in_folders, ws)][0] == "ran"

