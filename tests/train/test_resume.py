"""Resume: a run SIGKILLed mid-epoch and resumed ends where an uninterrupted run ends (issue 4, item 4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from resume_job import CONFIG

from luban.core.errors import UsageError
from luban.train.sft import SFTConfig, sft


def _losses(art) -> dict[int, float]:
    rows = [json.loads(x) for x in (art.path / "run" / "metrics.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(ws, base, chat_data):
    cfg = SFTConfig.model_validate(CONFIG)
    straight = sft(cfg, ws, {"model": base, "data": chat_data}, "straight")

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent))
    job = subprocess.Popen([sys.executable, str(Path(__file__).parent / "resume_job.py"), str(ws.root), "killed",
                            "fresh"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    marker = ws.root / "paused-at-4"  # written by resume_job.py right after checkpoint 4
    deadline = time.monotonic() + 240
    while not marker.is_file():
        assert job.poll() is None, job.stderr.read().decode()[-2000:] if job.stderr else "job ended"
        assert time.monotonic() < deadline, "no checkpoint-4 within 240 s"
        time.sleep(0.2)
    time.sleep(0.5)
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)
    assert job.returncode == -signal.SIGKILL
    assert not ws.exists("killed")  # nothing half-made

    resumed = sft(cfg, ws, {"model": base, "data": chat_data}, "killed", resume=True)
    assert 4 <= resumed.manifest.stats["resumed_from_step"] < 8
    a, b = _losses(straight), _losses(resumed)
    assert sorted(b) == list(range(1, 9))  # metrics read as one run, no duplicated steps
    assert b[8] == pytest.approx(a[8], rel=1e-3, abs=1e-4)
    assert b[5] == pytest.approx(a[5], rel=1e-3, abs=1e-4)


def test_resume_without_a_checkpoint_says_so(ws, base, chat_data):
    with pytest.raises(UsageError, match="--resume: no checkpoint in .*train-sft-never"):
        sft(SFTConfig.model_validate(CONFIG), ws, {"model": base, "data": chat_data}, "never", resume=True)


def test_a_checkpoint_cut_short_by_a_stop_is_not_resumed_from(tmp_path):
    """A stop while transformers saved checkpoint-4 left its weights without trainer_state.json (it is written
    last); resuming from it failed with FileNotFoundError. The newest complete checkpoint is taken instead."""
    from luban.train.run import last_checkpoint, prepare_run

    for step, state in ((2, '{"global_step": 2}'), (4, None), (6, '{"global_st'), (10, '{"global_step": 10}')):
        ckpt = tmp_path / f"checkpoint-{step}"
        ckpt.mkdir()
        (ckpt / "adapter_model.safetensors").write_bytes(b"w")
        if state is not None:
            (ckpt / "trainer_state.json").write_text(state)
    (tmp_path / "checkpoint-10" / "trainer_state.json").unlink()  # the newest, mid-save
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "loss": 1.0}) + "\n" for s in range(1, 6)))
    assert last_checkpoint(tmp_path) == tmp_path / "checkpoint-2"
    assert prepare_run(tmp_path, resume=True) == tmp_path / "checkpoint-2"
    assert [json.loads(x)["step"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    assert last_checkpoint(tmp_path / "nothing-here") is None
