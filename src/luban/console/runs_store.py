"""Training runs started from the console: one `luban train` process each, its record and log in the workspace.

    <workspace>/runs/console/<id>.json   the record: recipe, inputs, config, who started it, pid, status
    <workspace>/runs/console/<id>.yaml   the recipe config the CLI reads (written once, reused by --resume)
    <workspace>/runs/console/<id>.log    the CLI's output, appended by every attempt

Design choices:
- A run is the real CLI in a process of its own (`python -m luban.cli.main train ...`), in a new session: the
  console never imports the trainer (the import contract forbids it), a training crash cannot take the gateway
  down, and what the browser starts is exactly what a terminal would run.
- The loss curve is read from the file the trainer already writes (`runs/train-<recipe>-<name>/metrics.jsonl`,
  one row per logging step), so there is no second channel to keep in sync; on --resume the trainer drops the
  rows after its checkpoint, so the curve reads as one run.
- Stop is SIGTERM to the process group: the CLI turns it into an interrupt (exit 130, nothing half-written
  kept) and the checkpoints stay for --resume; SIGKILL follows only if it has not exited after KILL_AFTER.
- The record is the truth across gateway restarts: a pid is trusted only with the process start time it was
  recorded with (a recycled pid is not our run), and a run whose process ended while no gateway watched it is
  finished when its artifact exists, stopped when a stop was asked for, failed otherwise.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psutil

from luban.console.base import ConsoleError
from luban.core.workspace import Workspace

RECORDS = Path("runs") / "console"
KILL_AFTER = 30.0  # seconds between SIGTERM and SIGKILL
TAIL_BYTES = 6000
MAX_POINTS = 1500
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RUN_ID = re.compile(r"^run-[0-9a-f]{8}$")
STATUSES = ("running", "finished", "failed", "stopped")


class RunStore:
    """The console's runs of one workspace; safe to call from several request threads."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.folder = ws.root / RECORDS
        self._lock = threading.RLock()  # re-entered: stop/resume settle the record first
        self._procs: dict[str, subprocess.Popen[bytes]] = {}

    # -- records ---------------------------------------------------------------------------
    def path(self, run_id: str, suffix: str) -> Path:
        return self.folder / f"{run_id}.{suffix}"

    def load(self, run_id: str) -> dict[str, Any]:
        if not RUN_ID.match(run_id) or not self.path(run_id, "json").is_file():
            raise ConsoleError(404, f"No training run '{run_id}' in this workspace", "not_found")
        return dict(json.loads(self.path(run_id, "json").read_text(encoding="utf-8")))

    def save(self, rec: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path(rec["id"], f"json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(rec, indent=1, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path(rec["id"], "json"))  # readers never see half a record

    def all(self) -> list[dict[str, Any]]:
        return sorted(self._records(), key=lambda r: r["created"], reverse=True)

    def current(self, run_id: str) -> dict[str, Any]:
        """The record with its status brought up to date (a process that ended is settled here)."""
        with self._lock:
            rec = self.load(run_id)
            if rec["status"] == "running" and not self._alive(rec):
                self._settle(rec, self._returncode(rec))
            return rec

    # -- starting, stopping, resuming --------------------------------------------------------
    def start(self, form: dict[str, Any], config: dict[str, Any], key_id: str) -> dict[str, Any]:
        name = form["name"]
        with self._lock:
            for other in self._records():  # a fresh run clears the folder of its name: not while in use
                if other["name"] != name:
                    continue
                if other["status"] == "running":
                    raise ConsoleError(409, f"Run {other['id']} is training '{name}' now; stop it first or "
                                       "choose another output name", "name_in_use")
                if other["status"] == "stopped" and self.checkpoints(other):
                    raise ConsoleError(409, f"Run {other['id']} (stopped) has checkpoints for '{name}'; resume it "
                                       "or choose another output name", "name_in_use")
            rec: dict[str, Any] = {
                "id": f"run-{secrets.token_hex(4)}", "created": time.time(), "started_by": key_id,
                "recipe": form["recipe"], "model": form["model"], "data": form["data"], "name": name,
                "method": form.get("method"), "config": config, "status": "running", "attempts": 0,
                "pid": None, "pid_started": None, "returncode": None, "stop_requested": False,
                "stopped_at_step": None, "ended": None, "artifact": None,
            }
            self.folder.mkdir(parents=True, exist_ok=True)
            # JSON is YAML: the file the CLI reads is exactly the config the record shows
            self.path(rec["id"], "yaml").write_text(json.dumps(config, indent=1), encoding="utf-8")
            self._spawn(rec, resume=False)
            return rec

    def stop(self, run_id: str) -> dict[str, Any]:
        with self._lock:
            rec = self.current(run_id)
            if rec["status"] != "running":
                raise ConsoleError(409, f"Run {run_id} is {rec['status']}, not running", "not_running")
            rec["stop_requested"] = True
            rec["stopped_at_step"] = self.last_step(rec)
            self.save(rec)
            self._signal(rec, signal.SIGTERM)
        threading.Thread(target=self._kill_later, args=(rec,), daemon=True).start()
        return rec

    def resume(self, run_id: str) -> dict[str, Any]:
        with self._lock:
            rec = self.current(run_id)
            if rec["status"] not in ("stopped", "failed"):
                raise ConsoleError(409, f"Run {run_id} is {rec['status']}; only a stopped or failed run resumes",
                                   "not_resumable")
            if not self.checkpoints(rec):
                raise ConsoleError(409, f"Run {run_id} has no checkpoint to resume from (it ended before its "
                                   f"first save, every {rec['config']['train']['save_steps']} steps); start it "
                                   "again", "no_checkpoint")
            rec.update(status="running", stop_requested=False, returncode=None, ended=None)
            self._spawn(rec, resume=True)
            return rec

    # -- what the page shows -----------------------------------------------------------------
    def train_dir(self, rec: dict[str, Any]) -> Path:
        """Where the recipe keeps checkpoints and metrics: `runs/<stage>-<output name>` (luban.train.run)."""
        return self.ws.root / "runs" / f"train-{rec['recipe']}-{rec['name']}"

    def checkpoints(self, rec: dict[str, Any]) -> list[str]:
        """The run's complete checkpoint folders, oldest first (what --resume continues from); one a stop cut short
        while saving has no trainer_state.json yet (transformers writes it last) and is not offered."""
        found = [p for p in self.train_dir(rec).glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
        return [p.name for p in sorted(found, key=lambda p: int(p.name.rsplit("-", 1)[-1]) if
                                       p.name.rsplit("-", 1)[-1].isdigit() else -1)]

    def points(self, rec: dict[str, Any]) -> list[dict[str, float]]:
        """(step, loss, lr) of every logged step, thinned evenly past MAX_POINTS."""
        path = self.train_dir(rec) / "metrics.jsonl"
        if not path.is_file():
            return []
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # the line being written right now
                continue
            if isinstance(row.get("loss"), int | float):
                out.append({"step": row["step"], "loss": row["loss"], "lr": row.get("learning_rate"),
                            "epoch": row.get("epoch")})
        if len(out) > MAX_POINTS:
            every = len(out) / MAX_POINTS
            out = [out[int(i * every)] for i in range(MAX_POINTS - 1)] + [out[-1]]
        return out

    def last_step(self, rec: dict[str, Any]) -> int | None:
        pts = self.points(rec)
        return int(pts[-1]["step"]) if pts else None

    def log_tail(self, rec: dict[str, Any]) -> str:
        path = self.path(rec["id"], "log")
        if not path.is_file():
            return ""
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - TAIL_BYTES))
            text = f.read().decode("utf-8", errors="replace")
        return text if path.stat().st_size <= TAIL_BYTES else text.split("\n", 1)[-1]

    # -- processes ---------------------------------------------------------------------------
    def _records(self) -> list[dict[str, Any]]:
        return [self.current(p.stem) for p in self.folder.glob("run-*.json")] if self.folder.is_dir() else []

    def _spawn(self, rec: dict[str, Any], resume: bool) -> None:
        cmd = [sys.executable, "-m", "luban.cli.main", "--workspace", str(self.ws.root), "train", rec["recipe"],
               str(self.path(rec["id"], "yaml")), "--model", rec["model"], "--data", rec["data"],
               "--name", rec["name"], *(["--resume"] if resume else [])]
        # the console has checked the caller's role; the CLI acts as the workspace's owner, as on its machine
        env = {k: v for k, v in os.environ.items() if k != "LUBAN_API_KEY"}
        env.update(NO_COLOR="1", COLUMNS="160", PYTHONUNBUFFERED="1", TERM="dumb")
        rec["attempts"] += 1
        with self.path(rec["id"], "log").open("ab") as log:
            log.write(f"$ luban train {' '.join(cmd[6:])}\n".encode())
            log.flush()
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    cwd=self.ws.root, start_new_session=True)
        rec["pid"], rec["pid_started"] = proc.pid, _started(proc.pid)
        self._procs[rec["id"]] = proc
        self.save(rec)
        threading.Thread(target=self._watch, args=(rec["id"], proc), daemon=True).start()

    def _watch(self, run_id: str, proc: subprocess.Popen[bytes]) -> None:
        proc.wait()
        self.current(run_id)  # settles the record now, even if no page is looking

    def _alive(self, rec: dict[str, Any]) -> bool:
        proc = self._procs.get(rec["id"])
        if proc is not None and proc.pid == rec["pid"]:
            return proc.poll() is None
        return rec["pid"] is not None and _started(rec["pid"]) == rec["pid_started"]  # not a recycled pid

    def _returncode(self, rec: dict[str, Any]) -> int | None:
        proc = self._procs.get(rec["id"])
        return proc.returncode if proc is not None and proc.pid == rec["pid"] else None  # unknown after a restart

    def _settle(self, rec: dict[str, Any], rc: int | None) -> None:
        art = self._artifact(rec)
        if rc == 0 or (rc is None and art is not None):
            rec["status"] = "finished"
        else:
            rec["status"] = "stopped" if rec["stop_requested"] else "failed"
        if rec["stop_requested"]:  # the step it really ended at (a step may finish between signal and exit)
            rec["stopped_at_step"] = self.last_step(rec)
        rec.update(returncode=rc, ended=time.time(), artifact=art if rec["status"] == "finished" else None)
        self._procs.pop(rec["id"], None)
        self.save(rec)

    def _artifact(self, rec: dict[str, Any]) -> dict[str, Any] | None:
        """The output model artifact, when the name points at one made by this run (not before it)."""
        if not self.ws.exists(rec["name"]):
            return None
        art = self.ws.get(rec["name"])
        if datetime.fromisoformat(art.manifest.created).timestamp() < rec["created"] - 1:
            return None  # an older artifact of that name (the manifest's time has whole seconds)
        stats = art.manifest.stats
        return {"id": art.id, "name": art.name, "kind": art.kind, "created": art.manifest.created,
                "steps": stats.get("steps"), "final_loss": stats.get("final_loss")}

    def _signal(self, rec: dict[str, Any], sig: int) -> None:
        if self._alive(rec):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(rec["pid"], sig)  # the CLI and anything it started

    def _kill_later(self, rec: dict[str, Any]) -> None:
        deadline = time.monotonic() + KILL_AFTER
        while time.monotonic() < deadline:
            if not self._alive(rec):
                return
            time.sleep(0.5)
        with self._lock:
            self._signal(rec, signal.SIGKILL)


def _started(pid: int) -> float | None:
    """The process's start time (seconds since the epoch), None when there is no such process."""
    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
