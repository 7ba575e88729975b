"""evaluate(): every task kind on the tiny model, checked against a direct computation with transformers."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from luban.evaluate.kinds import TaskResult
from luban.evaluate.runner import evaluate
from luban.evaluate.targets import LocalModel, cut_at_stop, split_pair
from luban.evaluate.tasks import Task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "eval"


@pytest.fixture(scope="module")
def local(tiny_model_dir: Path) -> LocalModel:
    return LocalModel(tiny_model_dir, batch_size=3)


def direct_loglikelihood(model_dir: Path, context: str, continuation: str) -> float:
    """log P(continuation | context), one unpadded sequence at a time, the harness's way of splitting tokens."""
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    context, continuation = split_pair(context, continuation)
    whole = tok(context + continuation, add_special_tokens=False)["input_ids"]
    n_ctx = len(tok(context, add_special_tokens=False)["input_ids"])
    with torch.inference_mode():
        logp = torch.log_softmax(model(torch.tensor([whole])).logits[0].float(), -1)
    return float(sum(logp[i - 1, whole[i]] for i in range(n_ctx, len(whole))))


def test_multiple_choice_loglikelihoods_match_a_direct_computation(local: LocalModel, tiny_model_dir: Path) -> None:
    res = evaluate(local, [EXAMPLES / "mc_mmlu.yaml"])
    task = res["tasks"]["acme_mc_en"]
    first = task["items"][0]
    prompt = ("The following is a multiple choice question about Acme products.\n\n"
              "How long is the warranty of the X100 robot vacuum?\nA. 1 year\nB. 2 years\nC. 3 years\nD. 5 years\nAnswer:")
    for j, letter in enumerate("ABCD"):
        assert first["loglikelihoods"][j] == pytest.approx(direct_loglikelihood(tiny_model_dir, prompt, f" {letter}"),
                                                           abs=1e-4)
    assert first["pred"] == "ABCD"[max(range(4), key=lambda j: first["loglikelihoods"][j])]
    acc = sum(it["pred"] == it["answer"] for it in task["items"]) / 4
    assert res["metrics"]["acme_mc_en.acc"] == acc == task["metrics"]["acc"]


def test_batching_does_not_change_scores(tiny_model_dir: Path, local: LocalModel) -> None:
    one = LocalModel(tiny_model_dir, batch_size=1)
    tasks = [EXAMPLES / "mc_ceval.yaml", EXAMPLES / "generate_qa.yaml"]
    a, b = evaluate(one, list(tasks)), evaluate(local, list(tasks))
    for x, y in zip(a["tasks"]["acme_mc_zh"]["items"], b["tasks"]["acme_mc_zh"]["items"]):
        assert x["loglikelihoods"] == pytest.approx(y["loglikelihoods"], abs=1e-4)
    assert [i["prediction"] for i in a["tasks"]["acme_qa"]["items"]] == \
           [i["prediction"] for i in b["tasks"]["acme_qa"]["items"]]


def test_generate_scores_each_answer_and_bleu_over_the_corpus(local: LocalModel, tmp_path: Path) -> None:
    rows = [{"question": "X100扫地机器人的保修期是多久？", "answer": "2年"}, {"question": "Returns?", "answer": "30 days"}]
    (tmp_path / "qa.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    task = Task(task="qa", kind="generate", data=str(tmp_path / "qa.jsonl"), max_new_tokens=6)
    res = evaluate(local, [task])["tasks"]["qa"]
    assert res["n"] == 2 and set(res["metrics"]) == {"exact_match", "f1", "rouge_l", "bleu"}
    direct = local.generate([[{"role": "user", "content": r["question"]}] for r in rows], 6, [])
    assert [i["prediction"] for i in res["items"]] == direct
    for item in res["items"]:
        assert set(item) >= {"prediction", "reference", "exact_match", "f1", "rouge_l"}


def test_perplexity_matches_the_mean_token_nll(local: LocalModel, tiny_model_dir: Path) -> None:
    res = evaluate(local, [EXAMPLES / "perplexity.yaml"])["tasks"]["acme_ppl"]
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    texts = [json.loads(line)["text"] for line in (EXAMPLES / "corpus.jsonl").read_text().splitlines()]
    nll, n = 0.0, 0
    for t in texts:
        ids = [tok.bos_token_id or tok.eos_token_id, *tok(t, add_special_tokens=False)["input_ids"]]
        with torch.inference_mode():
            logp = torch.log_softmax(model(torch.tensor([ids])).logits[0], -1)
        nll -= float(sum(logp[i - 1, ids[i]] for i in range(1, len(ids))))
        n += len(ids) - 1
    assert res["metrics"]["perplexity"] == pytest.approx(math.exp(nll / n), rel=1e-4)
    assert res["metrics"]["tokens"] == n
    assert res["metrics"]["bits_per_byte"] == pytest.approx(nll / sum(len(t.encode()) for t in texts) / math.log(2),
                                                            rel=1e-4)


def test_stop_strings_cut_answers() -> None:
    assert cut_at_stop("2 years\nQuestion: next", ["\n"]) == "2 years"
    assert cut_at_stop("两年。问：", ["问：", "。"]) == "两年"
    assert cut_at_stop("no stop", []) == "no stop"


class LengthKind:
    """A team's own task kind: one small class named as `kind: module:Class`."""

    def check(self, task: Task, items: list[dict[str, Any]]) -> None:
        pass

    def score(self, task: Task, items: list[dict[str, Any]], target: Any) -> TaskResult:
        answers = target.generate([it["question"] for it in items], 4, [])
        return TaskResult({"chars": sum(len(a) for a in answers) / len(answers)})


def test_a_custom_kind_from_module_and_class(local: LocalModel) -> None:
    task = Task(task="own", kind=f"{__name__}:LengthKind", data=str(EXAMPLES / "qa.jsonl"), limit=2)
    res = evaluate(local, [task])
    assert set(res["metrics"]) == {"own.chars"} and res["tasks"]["own"]["n"] == 2
