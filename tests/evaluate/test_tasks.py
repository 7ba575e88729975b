"""Evaluation task files: the shipped templates load, every supported item format reads, and bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from luban.core.errors import ConfigError, UsageError
from luban.evaluate.runner import prepare
from luban.evaluate.tasks import answer_index, load_task, read_rows

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "eval"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_shipped_task_file_loads(name: str) -> None:
    task = load_task(EXAMPLES / name)
    assert task.kind in ("generate", "multiple_choice", "perplexity", "judge")


def test_shipped_samples_with_data_are_read_and_checked() -> None:
    files = [EXAMPLES / n for n in ("generate_qa.yaml", "mc_ceval.yaml", "mc_mmlu.yaml", "perplexity.yaml",
                                     "judge.yaml")]
    prepared = prepare(list(files))
    counts = {t.task: len(items) for t, items in prepared}
    assert counts == {"acme_qa": 6, "acme_mc_zh": 4, "acme_mc_en": 4, "acme_ppl": 3, "acme_judge": 6}
    zh = dict((t.task, items) for t, items in prepared)["acme_mc_zh"][0]
    assert zh == {"id": "0", "question": "X100扫地机器人的保修期是多久？", "choices": ["1年", "2年", "3年", "5年"],
                  "answer": "B"}


def test_a_task_file_missing_a_field_names_it(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "task: qa\ndata: qa.jsonl\n")
    with pytest.raises(ConfigError, match=r"t\.yaml: 'kind': Field required"):
        load_task(path)


def test_a_misspelled_field_gets_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "task: qa\nkind: generate\ndata: qa.jsonl\nmax_new_token: 3\n")
    with pytest.raises(ConfigError, match="did you mean 'max_new_tokens'"):
        load_task(path)


def test_an_unknown_kind_gets_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "task: qa\nkind: multiple_choise\ndata: qa.jsonl\n")
    with pytest.raises(ConfigError, match="unknown evaluation task kind 'multiple_choise'.*multiple_choice"):
        load_task(path)


def test_a_judge_task_without_a_judge_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "t.yaml", "task: j\nkind: judge\ndata: qa.jsonl\n")
    with pytest.raises(UsageError, match="a judge task needs `judge:"):
        load_task(path)


def test_data_paths_are_relative_to_the_task_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "qa.jsonl", '{"question": "q", "answer": "a"}\n')
    task = load_task(write(tmp_path / "sub" / "t.yaml", "task: qa\nkind: generate\ndata: qa.jsonl\n"))
    assert task.data_path() == tmp_path / "sub" / "qa.jsonl"
    assert prepare([task])[0][1] == [{"question": "q", "answer": "a"}]


def test_a_prompt_field_the_items_lack_is_named_with_the_item(tmp_path: Path) -> None:
    write(tmp_path / "qa.jsonl", '{"id": "q7", "q": "x", "answer": "a"}\n')
    task = load_task(write(tmp_path / "t.yaml", "task: qa\nkind: generate\ndata: qa.jsonl\n"))
    with pytest.raises(UsageError, match=r"task qa, item q7: the template names \{question\}.*fields are: answer, id, q"):
        prepare([task])


def test_a_multiple_choice_answer_not_among_its_choices_is_refused(tmp_path: Path) -> None:
    rows = [{"id": "m1", "question": "?", "choices": ["a", "b", "c"], "answer": "B"},
            {"id": "m2", "question": "?", "choices": ["a", "b", "c"], "answer": "D"}]
    write(tmp_path / "mc.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    task = load_task(write(tmp_path / "t.yaml", "task: mc\nkind: multiple_choice\ndata: mc.jsonl\n"))
    with pytest.raises(UsageError, match=r"item m2: answer 'D' is not among its 3 choices.*use one of A, B, C"):
        prepare([task])


@pytest.mark.parametrize("answer", [5, "e", "bogus", None])
def test_other_answers_outside_the_choices(answer: object) -> None:
    with pytest.raises(UsageError, match="item 1"):
        answer_index({"question": "?", "choices": ["x", "y"], "answer": answer}, "item 1")


def test_answers_by_letter_index_or_text() -> None:
    item = {"question": "?", "choices": ["一年", "两年", "三年"]}
    assert answer_index({**item, "answer": "b"}, "") == 1
    assert answer_index({**item, "answer": 2}, "") == 2
    assert answer_index({**item, "answer": "两年"}, "") == 1


def test_a_ceval_csv_with_a_bad_answer_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "c.csv", "id,question,A,B,C,D,answer\n0,题目,甲,乙,丙,丁,E\n")
    task = load_task(write(tmp_path / "t.yaml", "task: c\nkind: multiple_choice\ndata: c.csv\n"))
    with pytest.raises(UsageError, match="answer 'E' is not among its 4 choices"):
        prepare([task])


def test_cmmlu_and_mmlu_csv_layouts(tmp_path: Path) -> None:
    cmmlu = write(tmp_path / "cmmlu.csv", ",Question,A,B,C,D,Answer\n0,题目,甲,乙,丙,丁,C\n")
    assert read_rows(cmmlu) == [{"id": "1", "question": "题目", "choices": ["甲", "乙", "丙", "丁"], "answer": "C"}]
    mmlu = write(tmp_path / "mmlu.csv", 'What is 1+1?,1,2,"3, or more",4,B\n')
    assert read_rows(mmlu) == [{"id": "1", "question": "What is 1+1?", "choices": ["1", "2", "3, or more", "4"],
                                "answer": "B"}]


def test_a_csv_without_answer_column_lists_its_header(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.csv", "question,A,B\nq,x,y\n")
    with pytest.raises(UsageError, match="needs columns question, A, B, ... and answer.*header is: question, A, B"):
        read_rows(bad)


def test_a_broken_jsonl_line_is_named(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.jsonl", '{"question": "q", "answer": "a"}\n{"question": \n')
    with pytest.raises(UsageError, match=r"bad\.jsonl:2: not valid JSON"):
        read_rows(bad)


def test_a_perplexity_item_without_its_text_field(tmp_path: Path) -> None:
    write(tmp_path / "c.jsonl", '{"content": "hello"}\n')
    task = load_task(write(tmp_path / "t.yaml", "task: p\nkind: perplexity\ndata: c.jsonl\n"))
    with pytest.raises(UsageError, match="no text field 'text'.*one of: content"):
        prepare([task])


def test_missing_data_and_duplicate_names(tmp_path: Path) -> None:
    nodata = load_task(write(tmp_path / "n.yaml", "task: p\nkind: perplexity\n"))
    with pytest.raises(UsageError, match="task p has no data"):
        prepare([nodata])
    gone = load_task(write(tmp_path / "g.yaml", "task: g\nkind: generate\ndata: nope.jsonl\n"))
    with pytest.raises(UsageError, match="nope.jsonl does not exist"):
        prepare([gone])
    qa = EXAMPLES / "generate_qa.yaml"
    with pytest.raises(UsageError, match="task name 'acme_qa' is given twice"):
        prepare([qa, qa])
