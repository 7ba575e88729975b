"""evaluate.qa: where the questions come from, every bad input, and the report a real model run writes."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from luban.core.artifact import Artifact
from luban.core.errors import NotFoundError, UsageError
from luban.core.hashing import sha256_file
from luban.core.shards import write_splits
from luban.core.workspace import Workspace
from luban.evaluate.generation import answer_questions
from luban.evaluate.qa import QAEvalConfig, evaluate_qa, load_questions
from luban.models.loading import ImportConfig, import_stage

TRAIN = [{"question": "How long is the X100 warranty?", "answer": "2 years."},
         {"question": "When is support open?", "answer": "9:00-18:00 on weekdays."}]
TEST = [{"question": "X100保修多久？", "answer": "2年。"}]


def dataset(ws: Workspace, name: str, splits: dict[str, list[dict[str, str]]]) -> Artifact:
    with ws.create("dataset", name, "test.fixture") as p:
        write_splits(p.path, {split: pa.Table.from_pylist(rows) for split, rows in splits.items()})
    assert p.result is not None
    return p.result


def jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_dataset_is_scored_on_its_test_split(ws: Workspace) -> None:
    data = dataset(ws, "qa", {"train": TRAIN, "test": TEST})
    assert load_questions(QAEvalConfig(), data) == TEST


def test_a_dataset_without_a_test_split_falls_back_to_train(ws: Workspace) -> None:
    data = dataset(ws, "qa", {"train": TRAIN, "rejected": [{"question": "?", "answer": "!"}]})
    assert load_questions(QAEvalConfig(), data) == TRAIN


def test_a_dataset_with_neither_split_names_the_splits_it_has(ws: Workspace) -> None:
    data = dataset(ws, "qa", {"validation": TRAIN})
    with pytest.raises(NotFoundError, match=r"no split 'train' \(splits: validation\)"):
        load_questions(QAEvalConfig(), data)


def test_questions_file_with_custom_fields_and_limit(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "q.jsonl", [{"q": r["question"], "a": r["answer"]} for r in TRAIN + TEST])
    cfg = QAEvalConfig(questions=str(path), question_field="q", answer_field="a", limit=2)
    assert load_questions(cfg, None) == TRAIN
    assert len(load_questions(QAEvalConfig(questions=str(path), question_field="q", answer_field="a"), None)) == 3


def test_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text("\n" + json.dumps(TRAIN[0]) + "\n\n   \n" + json.dumps(TRAIN[1]) + "\n", encoding="utf-8")
    assert load_questions(QAEvalConfig(questions=str(path)), None) == TRAIN


def test_bad_inputs_are_one_line_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no questions given") as e:
        load_questions(QAEvalConfig(), None)
    assert "data" in (e.value.hint or "")
    with pytest.raises(UsageError, match="missing.jsonl does not exist"):
        load_questions(QAEvalConfig(questions=str(tmp_path / "missing.jsonl")), None)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(TRAIN[0]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"bad.jsonl:2: not valid JSON"):
        load_questions(QAEvalConfig(questions=str(bad)), None)
    fields = jsonl(tmp_path / "fields.jsonl", [TRAIN[0], {"question": "Where?", "reply": "Here."}])
    with pytest.raises(UsageError, match="question 2 lacks string fields 'question'/'answer'"):
        load_questions(QAEvalConfig(questions=str(fields)), None)
    numbers = jsonl(tmp_path / "numbers.jsonl", [{"question": "1 + 1?", "answer": 2}])  # type: ignore[dict-item]
    with pytest.raises(UsageError, match="question 1 lacks string fields"):
        load_questions(QAEvalConfig(questions=str(numbers)), None)


def test_a_model_input_is_required(ws: Workspace, tmp_path: Path) -> None:
    cfg = QAEvalConfig(questions=str(jsonl(tmp_path / "q.jsonl", TRAIN)))
    with pytest.raises(UsageError, match="needs an input `model`"):
        evaluate_qa(cfg, ws, {"baseline": dataset(ws, "qa", {"train": TRAIN})})
    assert [a.kind for a, _ in ws.list()] == ["dataset"]  # no report was written


@pytest.fixture
def model(ws: Workspace, tiny_model_dir: Path, tmp_path: Path) -> Artifact:
    """The tiny model with a decisive head: every next token is "A" or "B", by the sign of one hidden unit.

    A random tiny model answers only newlines, which strip to "", and "" never matches anything."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    lm = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    a, b = (tok.convert_tokens_to_ids(t) for t in ("A", "B"))
    with torch.no_grad():
        lm.model.norm.weight.zero_()
        lm.model.norm.weight[0] = 1.0
        head = torch.zeros_like(lm.lm_head.weight)
        head[a, 0], head[b, 0] = 10.0, -10.0
    lm.config.tie_word_embeddings = False  # a head of its own: the input embeddings stay as they were
    lm.lm_head.weight = torch.nn.Parameter(head)
    out = tmp_path / "decisive"
    lm.save_pretrained(out)
    tok.save_pretrained(out)
    return import_stage(ImportConfig(path=str(out)), ws, name="tiny")


def test_report_scores_model_and_baseline_and_records_the_question_file(ws: Workspace, model: Artifact,
                                                                        tmp_path: Path) -> None:
    questions = [r["question"] for r in TRAIN + TEST]
    predicted = answer_questions(model.path, questions, max_new_tokens=6, batch_size=2)
    assert all(p and set(p) <= {"A", "B"} for p in predicted)
    # the first reference is what the model answers, so exactly one question in three is an exact match
    rows = [{"question": q, "answer": predicted[0] if i == 0 else f"not {predicted[0]}"}
            for i, q in enumerate(questions)]
    path = jsonl(tmp_path / "heldout.jsonl", rows)
    cfg = QAEvalConfig(questions=str(path), max_new_tokens=6, batch_size=2)
    report = evaluate_qa(cfg, ws, {"model": model, "baseline": model}, name="eval")
    results = json.loads((report.path / "results.json").read_text(encoding="utf-8"))
    assert results["questions"] == 3 and "split" not in results
    for role in ("model", "baseline"):
        res = results["models"][role]
        assert [i["prediction"] for i in res["items"]] == predicted
        assert [i["exact_match"] for i in res["items"]] == [1.0, 0.0, 0.0]
        assert res["exact_match"] == pytest.approx(1 / 3)
        assert res["items"][0]["rouge_l"] == 1.0 and res["artifact"] == {"name": "tiny", "id": model.id}
        assert report.manifest.stats[role] == {"exact_match": res["exact_match"], "rouge_l": res["rouge_l"]}
    assert report.manifest.stats["questions"] == 3
    html = (report.path / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "X100保修多久？" in html
    parents = {(p.type, p.role): p for p in report.manifest.parents}
    assert set(parents) == {("artifact", "model"), ("artifact", "baseline"), ("file", "questions")}
    assert parents[("file", "questions")].sha256 == sha256_file(path)


def test_report_of_a_dataset_without_test_split_says_it_used_train(ws: Workspace, model: Artifact) -> None:
    data = dataset(ws, "qa", {"train": TRAIN})
    report = evaluate_qa(QAEvalConfig(max_new_tokens=2), ws, {"model": model, "data": data}, name="eval")
    results = json.loads((report.path / "results.json").read_text(encoding="utf-8"))
    assert results["split"] == "train" and report.manifest.stats["split"] == "train"
    assert [i["question"] for i in results["models"]["model"]["items"]] == [r["question"] for r in TRAIN]
    assert {(p.role, p.id) for p in report.manifest.parents} == {("model", model.id), ("data", data.id)}
