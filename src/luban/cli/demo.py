"""`luban demo`: the whole chain once, on the bundled Acme corpus, in a few minutes on a laptop CPU.

curate raw files -> build a tiny base model and pretrain it -> LoRA SFT -> merge and export ->
evaluate base vs tuned -> serve on localhost -> ask three questions with the official `openai` client.
Every step is a stage of examples/acme/luban.yaml, so a second run reuses them all.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from luban.cli.context import console, state
from luban.cli.run import print_stage_start, results_table
from luban.core.errors import LubanError, NotFoundError
from luban.pipeline import run_spec

DEMO_DIR = Path("examples") / "acme"


def find_demo_dir() -> Path:
    for base in (Path.cwd(), Path(__file__).resolve().parents[3]):
        if (base / DEMO_DIR / "luban.yaml").is_file():
            return base / DEMO_DIR
    raise NotFoundError("cannot find examples/acme/luban.yaml", "run `luban demo` from the Luban repository root")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(model: str, port: int, workspace: Path, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "luban.cli.main", "--workspace", str(workspace), "serve", model,
           "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def wait_healthy(proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise LubanError(f"the server exited early: {' | '.join(tail)}", f"see {log}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise LubanError(f"the server did not become healthy within {timeout:.0f}s", f"see {log}")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def ask(url: str, model: str, questions: list[str]) -> list[str]:
    from openai import OpenAI

    client = OpenAI(base_url=f"{url}/v1", api_key="luban-demo", max_retries=0, timeout=120)
    answers = []
    for q in questions:
        resp = client.chat.completions.create(model=model, messages=[{"role": "user", "content": q}],
                                              max_tokens=48, temperature=0)
        answers.append(resp.choices[0].message.content or "")
    return answers


def demo(spec: Path = typer.Option(None, "--spec", help="solution spec (default: examples/acme/luban.yaml)"),
         force: list[str] = typer.Option(None, "--force", "-f", help="re-run this stage even if unchanged"),
         serve: bool = typer.Option(True, "--serve/--no-serve", help="serve the model and ask the questions")) -> None:
    """Run the whole chain on the bundled Acme corpus and chat with the result.

    Example: luban demo            (a second run reuses every finished stage)
    """
    t0 = time.perf_counter()
    demo_dir = spec.parent if spec else find_demo_dir()
    spec = spec or demo_dir / "luban.yaml"
    ws = state.workspace()
    results = run_spec(spec, ws, force=set(force or []), on_start=print_stage_start)
    console.print(results_table(results))
    by_name = {r.name: r for r in results}
    evals = [r for r in results if r.use == "evaluate.qa"]
    models = [r.artifact for r in results if r.artifact.kind == "model"]
    if not models:
        raise NotFoundError(f"{spec} produces no model to serve", "add a training or merge stage")
    served = models[-1]
    if evals:
        stats = evals[-1].artifact.manifest.stats
        table = Table("model", "exact match", "ROUGE-L", title=f"held-out questions ({stats.get('questions')})",
                      box=None)
        for role, label in (("baseline", "base (pretrained)"), ("model", "tuned (LoRA SFT)")):
            if role in stats:
                table.add_row(label, f"{stats[role]['exact_match']:.3f}", f"{stats[role]['rouge_l']:.3f}")
        console.print(table)
    if serve:
        questions = json.loads((demo_dir / "demo_questions.json").read_text(encoding="utf-8"))
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = ws.run_dir("demo") / "server.log"
        model_name = served.name or served.short_id
        with console.status(f"starting `luban serve {model_name}` on {url}"):
            proc = start_server(model_name, port, ws.root, log)
            try:
                wait_healthy(proc, url, log)
                answers = ask(url, model_name, questions)
            finally:
                stop_server(proc)
        for q, a in zip(questions, answers):
            console.print(Panel(Text(a) if a else "[dim](empty)[/dim]", title=f"[bold]{escape(q)}[/bold]", title_align="left",
                                subtitle="via openai client", subtitle_align="right"))
    if evals:
        console.print(f"HTML report: {evals[-1].artifact.path / 'report.html'}")
    console.print(f"Lineage of the served model: `luban lineage {served.name}`   "
                  f"[dim]({len(by_name)} stages, {time.perf_counter() - t0:.0f}s)[/dim]")
