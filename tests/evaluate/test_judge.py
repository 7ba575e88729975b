"""LLM-as-judge: the prompt, the parse of a verdict, and a judge that is down or answers unparseably.

The judge is a commercial model in practice; here it is a real HTTP server on loopback speaking the OpenAI
chat-completions protocol (the official `openai` client talks to it), answering what each test sets.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from luban.core.errors import UsageError
from luban.evaluate.judge import DEFAULT_TEMPLATE, JudgeError, grade, judge_prompt, parse_score
from luban.evaluate.runner import evaluate
from luban.evaluate.targets import LocalModel
from luban.evaluate.tasks import JudgeSpec, Task

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "eval"


class JudgeServer:
    def __init__(self) -> None:
        self.reply: str = "[[8]]"
        self.status = 200
        self.prompts: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.prompts.append(body["messages"][-1]["content"])
                if outer.status != 200:
                    payload: dict[str, Any] = {"error": {"message": "model overloaded", "type": "server_error"}}
                else:
                    payload = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                               "choices": [{"index": 0, "finish_reason": "stop",
                                            "message": {"role": "assistant", "content": outer.reply}}]}
                data = json.dumps(payload).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def judge() -> Iterator[JudgeServer]:
    srv = JudgeServer()
    yield srv
    srv.httpd.shutdown()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("reply", "score"), [
    ("The answer is correct and complete. [[9]]", 9.0),
    ("回答基本正确，但遗漏了退货期限。[[6]]", 6.0),
    ('{"score": 7, "reason": "ok"}', 7.0),
    ("Explanation: fine.\nScore: 8", 8.0),
    ("评分：5", 5.0),
    ("I'd rate it 7/10.", 7.0),
    ("First draft [[3]], on reflection [[4]]", 4.0),  # the final verdict counts
    ("[[ 7.5 ]]", 7.5),
])
def test_verdicts_are_read_in_every_common_form(reply: str, score: float) -> None:
    assert parse_score(reply, 10) == score


@pytest.mark.parametrize("reply", ["", "The answer looks good to me.", "很好", "[[excellent]]"])
def test_a_verdict_without_a_score_is_an_error(reply: str) -> None:
    with pytest.raises(JudgeError, match="holds no score"):
        parse_score(reply, 10)


def test_a_score_outside_the_scale_is_an_error() -> None:
    with pytest.raises(JudgeError, match=r"gave 11, outside 1\.\.10"):
        parse_score("[[11]]", 10)


def test_the_prompt_carries_question_reference_and_answer() -> None:
    spec = JudgeSpec(url="http://x/v1", model="j")
    text = judge_prompt(spec, "保修多久？", "2年", "两年")
    assert "保修多久？" in text and "2年" in text and "两年" in text and "[[score]]" in text and "1 to 10" in text
    assert "{question}" in DEFAULT_TEMPLATE
    with pytest.raises(UsageError, match="judge template"):
        judge_prompt(spec.model_copy(update={"template": "{question} {rubric}"}), "q", "r", "a")


def test_a_judge_grades_over_http(judge: JudgeServer) -> None:
    judge.reply = "Correct. [[8]]"
    verdicts = grade(JudgeSpec(url=judge.url, model="judge"), [("q1", "2 years", "two years"), ("q2", "r", "a")])
    assert [v.score for v in verdicts] == [8.0, 8.0] and verdicts[0].normalized == 0.8
    assert len(judge.prompts) == 2 and any("two years" in p for p in judge.prompts)


def test_a_judge_that_is_down_is_a_clear_error() -> None:
    spec = JudgeSpec(url=f"http://127.0.0.1:{closed_port()}/v1", model="judge", timeout=5)
    with pytest.raises(JudgeError, match=r"the judge at http://127\.0\.0\.1:\d+/v1 is not reachable"):
        grade(spec, [("q", "r", "a")])


def test_a_judge_answering_an_error_status_is_a_clear_error(judge: JudgeServer) -> None:
    judge.status = 503
    with pytest.raises(JudgeError, match="answered 503"):
        grade(JudgeSpec(url=judge.url, model="judge"), [("q", "r", "a")])


def test_a_judge_task_end_to_end_and_an_unparseable_judge(judge: JudgeServer, tiny_model_dir: Path) -> None:
    local = LocalModel(tiny_model_dir)
    task = Task(task="judged", kind="judge", data=str(EXAMPLES / "qa.jsonl"), limit=2, max_new_tokens=4,
                judge=JudgeSpec(url=judge.url, model="judge", scale=5))
    judge.reply = "Partly right. [[4]]"
    res = evaluate(local, [task])
    assert res["metrics"] == {"judged.judge_score": 0.8, "judged.judge_raw": 4.0}
    assert res["tasks"]["judged"]["items"][0]["judge"] == "Partly right. [[4]]"
    # the judge is asked concurrently, so the prompts arrive in any order
    assert len(judge.prompts) == 2
    assert any("How long is the warranty of the X100 robot vacuum?" in p for p in judge.prompts)
    judge.reply = "I think it is fine."
    with pytest.raises(JudgeError, match="holds no score: 'I think it is fine.'"):
        evaluate(local, [task])
