"""Training from the console: the roles that may start a run, the advisor refusing impossible plans before
anything starts, a real `luban train` run of the tiny model that is watched, stopped, resumed and finishes with
its model artifact, and the same in a real browser (form, estimate, live loss curve, Stop / Resume)."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from console_site import Site, login, luban, shot

from luban.console.runs_form import Forms, RunForm, known_gpu
from luban.console.runs_store import RunStore
from luban.core.workspace import Workspace
from luban.gateway.config import load_gateway_config

BASE, DATA = "train-base", "train-chat"
QA = [("What is the warranty of the X100?", "The X100 has a 2-year warranty."),
      ("When is support open?", "Support is open 9:00-18:00 on weekdays."),
      ("Which lock does Acme make?", "Acme makes the L2 smart lock.")]
# a few quick steps on 2 CPU cores: checkpoints every 2 steps so Stop always leaves one to resume from
QUICK = {"recipe": "sft", "model": BASE, "data": DATA, "method": "lora", "lr": 1e-3, "batch_size": 4,
         "max_seq_length": 128, "save_steps": 2, "logging_steps": 1, "lora_rank": 4}


@pytest.fixture(scope="module")
def inputs(site: Site, tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A base model and a chat dataset in the site's workspace, made with the real CLI (`luban run`)."""
    folder = tmp_path_factory.mktemp("training-inputs")
    with (folder / "chat.jsonl").open("w", encoding="utf-8") as f:
        for i in range(24):
            q, a = QA[i % len(QA)]
            f.write(json.dumps({"messages": [{"role": "user", "content": q},
                                             {"role": "assistant", "content": a}]}) + "\n")
    (folder / "luban.yaml").write_text(
        f"name: console-training\nstages:\n"
        f"  - name: {BASE}\n    use: models.import\n    with: {{path: {tiny_model_dir}}}\n"
        f"  - name: {DATA}\n    use: data.format\n    with: {{inputs: [chat.jsonl], to: chat}}\n", encoding="utf-8")
    luban(site.ws, "run", str(folder / "luban.yaml"))
    return site


def wait(what: str, check: Callable[[], Any], timeout: float = 240, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)


def run_of(site: Site, run_id: str) -> dict[str, Any]:
    r = site.get(f"/console/api/runs/{run_id}", role="developer")
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_developers_start_runs_apps_and_auditors_may_not(inputs: Site) -> None:
    form = {**QUICK, "name": "never-started", "max_steps": 2}
    for role in ("app", "auditor"):
        r = inputs.post("/console/api/runs", form, role=role)
        assert r.status_code == 403 and "this needs" in r.json()["error"]["message"], r.text
    assert inputs.get("/console/api/runs", role="app").status_code == 403
    assert inputs.get("/console/api/runs", role="auditor").status_code == 200  # reading runs is artifacts.read
    opts = inputs.get("/console/api/runs/options", role="developer").json()
    assert "sft" in [r["name"] for r in opts["recipes"]] and "distill" not in [r["name"] for r in opts["recipes"]]
    assert BASE in [m["ref"] for m in opts["models"]] and DATA in [d["ref"] for d in opts["datasets"]]
    assert next(r for r in opts["recipes"] if r["name"] == "pretrain")["methods"] == ["full"]


@pytest.mark.parametrize(("change", "code", "words"), [
    ({"lr": -0.001}, "invalid_lr", "learning rate must be above 0"),
    ({"batch_size": 0}, "invalid_batch_size", "batch size must be at least 1"),
    ({"max_steps": 0}, "invalid_max_steps", "max steps must be a positive number, or -1"),
    ({"max_seq_length": 100000}, "invalid_max_seq_length", "longer than the model's context (512)"),
    ({"method": "dora"}, "invalid_method", "trains with full or lora or qlora, not 'dora'"),
    ({"recipe": "distill"}, "invalid_recipe", "unknown recipe 'distill'"),
    ({"data": "no-such-data"}, "invalid_data", "'no-such-data' is not a dataset artifact"),
    ({"model": DATA}, "invalid_model", "is not a model artifact"),
    ({"memory_gib": -1}, "invalid_memory_gib", "memory budget must be above 0"),
])
def test_the_estimate_refuses_bad_numbers_with_one_sentence(inputs: Site, change: dict[str, Any], code: str,
                                                             words: str) -> None:
    r = inputs.post("/console/api/runs/estimate", {**QUICK, "max_steps": 4, **change}, role="developer")
    assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text
    assert words.lower() in r.json()["error"]["message"].lower()


def test_a_plan_the_advisor_says_will_not_fit_is_refused_before_anything_starts(inputs: Site) -> None:
    before = len(inputs.get("/console/api/runs", role="developer").json()["runs"])
    huge = {**QUICK, "name": "too-big", "max_steps": 4, "batch_size": 64, "max_seq_length": 512, "memory_gib": 0.5}
    e = inputs.post("/console/api/runs/estimate", huge, role="developer").json()
    assert e["fits"] is False and e["estimate"]["total"] > 0.5
    assert e["reason"].startswith("Will not fit: this plan needs") and "has 0.50 GiB" in e["reason"]
    assert "the advisor suggests turn on gradient checkpointing" in e["reason"]
    r = inputs.post("/console/api/runs", huge, role="developer")
    assert r.status_code == 400 and r.json()["error"]["code"] == "will_not_fit"
    assert r.json()["error"]["message"] == e["reason"]
    e = inputs.post("/console/api/runs/estimate", {**QUICK, "method": "qlora"}, role="developer").json()
    if e["device"]["kind"] == "cpu":
        assert e["fits"] is False and "QLoRA needs a CUDA GPU" in e["reason"]
    ok = inputs.post("/console/api/runs/estimate", {**QUICK, "max_steps": 4}, role="developer").json()
    assert ok["fits"] is True and ok["reason"] is None and ok["tokens"] == 4 * 4 * 128
    assert ok["estimate"]["total"] == pytest.approx(sum(ok["estimate"][k] for k in (
        "weights", "gradients", "optimizer", "activations", "overhead")), abs=0.01)
    for name, words in (("bad name!", "output name must be"), (BASE, "already exists")):
        r = inputs.post("/console/api/runs", {**QUICK, "name": name, "max_steps": 2}, role="developer")
        assert r.status_code == 400 and words in r.json()["error"]["message"], r.text
    assert len(inputs.get("/console/api/runs", role="developer").json()["runs"]) == before


@pytest.mark.parametrize(("device", "entry"), [
    ("NVIDIA H100 80GB HBM3", "H100-80G"), ("NVIDIA A100-SXM4-40GB", "A100-40G"), ("NVIDIA H200", "H200-141G"),
    ("NVIDIA H20", "H20-96G"), ("NVIDIA A10", "A10-24G"), ("NVIDIA GeForce RTX 4090", "4090-24G"),
    ("NVIDIA A100-SXM4", None), ("NVIDIA L4", None),
])
def test_cuda_device_names_map_to_the_advisors_gpus(device: str, entry: str | None) -> None:
    assert known_gpu(device) == entry


def test_on_a_gpu_the_advisor_also_times_the_run(inputs: Site) -> None:
    forms = Forms(load_gateway_config(data={}))
    forms._device = {"kind": "cuda", "name": "NVIDIA A100 80GB PCIe", "memory_gib": 80.0, "gpu": "A100-80G"}
    forms._recipes = [{"name": "sft", "summary": "", "methods": ["full", "lora", "qlora"]}]
    ws = Workspace(inputs.ws)
    e = forms.estimate(RunForm(**{**QUICK, "max_steps": 100}), ws)
    assert e["fits"] is True and e["tokens"] == 100 * 4 * 128 and 0 < e["seconds"] < 60
    by_epoch = forms.estimate(RunForm(**{**QUICK, "epochs": 2.0}), ws)  # 24 rows x 128 tokens, twice
    assert by_epoch["tokens"] == 2 * 24 * 128 and by_epoch["seconds"] < e["seconds"]
    qlora = forms.estimate(RunForm(**{**QUICK, "max_steps": 100, "method": "qlora"}), ws)
    assert qlora["fits"] is True and qlora["estimate"]["weights"] < e["estimate"]["weights"] + 1e-9


def test_a_real_run_is_watched_stopped_resumed_and_finishes_with_its_model(inputs: Site) -> None:
    site = inputs
    r = site.post("/console/api/runs", {**QUICK, "name": "console-api-run", "max_steps": 16}, role="developer")
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    assert r.json()["status"] == "running" and r.json()["estimate"]["fits"] is True
    assert site.post(f"/console/api/runs/{run_id}/stop", {}, role="auditor").status_code == 403

    first = wait("3 logged steps and a checkpoint", lambda: (lambda d: d if len(d["points"]) >= 3 and
                                                             d["checkpoints"] else None)(run_of(site, run_id)))
    assert all(p["loss"] > 0 and p["lr"] is not None for p in first["points"])
    assert site.post(f"/console/api/runs/{run_id}/stop", {}, role="developer").status_code == 200
    stopped = wait("the run to stop", lambda: (lambda d: d if d["status"] == "stopped" else None)(
        run_of(site, run_id)), timeout=90)
    assert stopped["returncode"] == 130 and "interrupted" in stopped["log"]
    stop_step = stopped["stopped_at_step"]
    assert stop_step >= 2 and stopped["checkpoints"] and stopped["artifact"] is None
    again = site.post("/console/api/runs", {**QUICK, "name": "console-api-run", "max_steps": 16}, role="developer")
    assert again.status_code == 409 and "resume it" in again.json()["error"]["message"]

    r = site.post(f"/console/api/runs/{run_id}/resume", {}, role="developer")
    assert r.status_code == 200 and r.json()["status"] == "running" and r.json()["attempts"] == 2
    done = wait("the resumed run to finish", lambda: (lambda d: d if d["status"] != "running" else None)(
        run_of(site, run_id)))
    assert done["status"] == "finished", done["log"]
    steps = [p["step"] for p in done["points"]]
    # one curve, continued past the stop
    assert steps == list(range(1, 17)) and max(steps) > stop_step, (stop_step, done["points"], done["log"][-3000:])
    assert len({round(p["loss"], 4) for p in done["points"]}) > 3
    assert "--resume" in done["log"] and "✓ model console-api-run" in done["log"]
    art = done["artifact"]
    assert art["name"] == "console-api-run" and art["kind"] == "model" and art["steps"] == 16
    assert "console-api-run" in luban(site.ws, "ls").stdout
    assert site.post(f"/console/api/runs/{run_id}/resume", {}, role="developer").status_code == 409

    # a gateway restart reads the same records: a fresh store lists the run, finished, with its curve
    store = RunStore(Workspace(site.ws))
    rec = store.current(run_id)
    assert rec["status"] == "finished" and len(store.points(rec)) == 16
    listed = site.get("/console/api/runs", role="auditor").json()["runs"]
    assert any(x["id"] == run_id and x["status"] == "finished" and x["step"] == 16 for x in listed)


def test_a_run_whose_process_died_unwatched_is_failed_and_unknown_ids_are_404(inputs: Site) -> None:
    store = RunStore(Workspace(inputs.ws))
    rec = {"id": "run-0000dead", "created": time.time(), "started_by": "test", "recipe": "sft", "model": BASE,
           "data": DATA, "name": "died-unwatched", "method": "lora", "config": {"train": {"save_steps": 2}},
           "status": "running", "attempts": 1, "pid": os.getpid(), "pid_started": 1.0, "returncode": None,
           "stop_requested": False, "stopped_at_step": None, "ended": None, "artifact": None}
    store.save(rec)  # our own pid with another start time: a recycled pid, not the run
    store.path(rec["id"], "log").write_text("$ luban train sft ...\nKilled\n", encoding="utf-8")
    got = run_of(inputs, "run-0000dead")
    assert got["status"] == "failed" and "Killed" in got["log"]
    r = inputs.post("/console/api/runs/run-0000dead/resume", {}, role="developer")
    assert r.status_code == 409 and "no checkpoint to resume from" in r.json()["error"]["message"]
    assert inputs.get("/console/api/runs/run-0000beef", role="developer").status_code == 404
    assert inputs.get("/console/api/runs/..%2F..%2Fgateway", role="developer").status_code == 404


# -- in a browser ---------------------------------------------------------------------------------------

def curve_points(page: Any) -> int:
    d = page.get_attribute("#loss-chart path[data-series]", "d") if page.locator("#loss-chart path").count() else ""
    return (d or "").count("L") + (1 if d else 0)


def shown_step(page: Any) -> int:
    value = page.get_attribute("#run-step", "data-step")
    return int(value) if value else 0


def fill(page: Any, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if page.locator(f"select#f-{name}").count():
            page.select_option(f"#f-{name}", str(value))
        else:
            page.fill(f"#f-{name}", str(value))


@pytest.mark.browser
def test_train_from_the_browser_watch_the_curve_stop_and_resume(page: Any, inputs: Site) -> None:
    login(page, inputs, "developer")
    page.goto(inputs.console + "#/training")
    page.wait_for_selector("#run-form")
    fill(page, {"model": BASE, "data": DATA, "method": "lora", "lr": "0.001", "max_steps": 200, "batch_size": 4,
                "max_seq_length": 128, "save_steps": 2, "logging_steps": 1, "lora_rank": 4, "name": "browser-run"})
    page.wait_for_selector("#estimate-verdict[data-fits=true]")
    assert "GiB" in page.inner_text("#run-estimate") and page.is_enabled("#start-run")
    shot(page, "training-form")
    page.click("#start-run")
    page.wait_for_url("**#/training/run-*")
    run_id = page.url.rsplit("/", 1)[1]
    page.wait_for_function("() => (document.querySelector('#loss-chart path[data-series]')?.getAttribute('d') || '')"
                           ".split('L').length >= 3", timeout=240_000)
    grown_from = curve_points(page)
    page.wait_for_function(f"() => (document.querySelector('#loss-chart path[data-series]')?.getAttribute('d') || '')"
                           f".split('L').length > {grown_from}", timeout=60_000)
    wait("a checkpoint", lambda: run_of(inputs, run_id)["checkpoints"], timeout=120)
    shot(page, "training-running")
    page.click("#stop-run")
    page.wait_for_selector("#run-head [data-status=stopped]", timeout=90_000)
    stop_step = shown_step(page)
    assert page.is_enabled("#resume-run") and not page.is_enabled("#stop-run")
    assert "interrupted" in page.inner_text("#run-log")
    shot(page, "training-stopped")

    page.reload()  # the run is the workspace's, not the page's
    page.wait_for_selector("#run-head [data-status=stopped]")
    page.click("#resume-run")
    page.wait_for_selector("#run-head [data-status=running]")
    page.wait_for_function(f"() => +document.querySelector('#run-step')?.dataset.step > {stop_step}",
                           timeout=240_000)
    shot(page, "training-resumed")

    pid = run_of(inputs, run_id)["pid"]  # a process that dies on its own (here: killed) is shown failed
    os.killpg(pid, signal.SIGKILL)
    page.wait_for_selector("#run-head [data-status=failed]", timeout=60_000)
    assert page.locator("#run-message .banner.error").count() == 1 and page.inner_text("#run-log").strip()
    page.goto(inputs.console + "#/training")
    page.wait_for_selector(f"#runs-table a[data-run={run_id}]")


@pytest.mark.browser
def test_the_form_shows_the_advisors_refusal_and_starts_nothing(page: Any, inputs: Site) -> None:
    login(page, inputs, "developer")
    page.goto(inputs.console + "#/training")
    page.wait_for_selector("#estimate-verdict")
    fill(page, {"model": BASE, "data": DATA, "batch_size": 64, "max_seq_length": 512, "memory_gib": "0.5",
                "name": "too-big-browser"})
    page.wait_for_selector("#estimate-verdict[data-fits=false]")
    assert "Will not fit: this plan needs" in page.inner_text("#estimate-refusal")
    assert not page.is_enabled("#start-run")
    shot(page, "training-will-not-fit")
    fill(page, {"memory_gib": "", "batch_size": 4, "lr": "-1"})
    page.wait_for_function("() => document.querySelector('#estimate-refusal')?.textContent.includes('learning rate')")
    assert page.locator("[data-field=lr].bad").count() == 1 and not page.is_enabled("#start-run")
    fill(page, {"lr": "0.001", "memory_gib": "0.5", "batch_size": 64})
    page.wait_for_selector("#estimate-verdict[data-fits=false]")
    page.click("#lang-switch")  # the page is drawn again in Chinese, its fields back to their defaults
    page.wait_for_selector("#estimate-verdict")
    assert "新建训练" in page.inner_text("main") and "开始训练" in page.inner_text("#start-run")
    fill(page, {"model": BASE, "data": DATA, "batch_size": 64, "max_seq_length": 512, "memory_gib": "0.5"})
    page.wait_for_selector("#estimate-verdict[data-fits=false]")
    assert page.inner_text("#estimate-refusal").startswith("无法运行：此方案每个设备需要")
    shot(page, "training-will-not-fit-zh")
    page.click("#lang-switch")
