"""Retention keeps the rest verifiable; queries and exports find records by key, model, time, verdict."""

from __future__ import annotations

import io
import json
import os

import pytest
from sqlalchemy import text

from luban.audit import AuditLog, AuditStore, open_store
from luban.audit.query import Filter, find, write_csv, write_jsonl
from luban.audit.retention import prune
from luban.audit.signing import Signer
from luban.audit.verify import verify_chain
from luban.core.errors import StageError, UsageError

DAY = 86400.0
NOW = 1_800_000_000.0


def old_and_new(log: AuditLog) -> None:
    for i in range(10):  # 300 .. 291 days old
        log.append({"ts": NOW - (300 - i) * DAY, "kind": "call", "key_id": "k1", "model": "m", "action": "ok"})
    for i in range(5):  # recent, two of them blocked
        log.append({"ts": NOW - (5 - i) * DAY, "kind": "call", "key_id": "k2", "model": "m2",
                    "action": "blocked" if i % 2 else "ok", "purpose": "support"})


def test_prune_deletes_only_old_records_and_the_rest_still_verifies(tmp_path):
    store, signer = open_store(tmp_path), Signer(tmp_path)
    with AuditLog(store, tmp_path, "c", signer=signer) as log:
        old_and_new(log)
    assert prune(store, "c", signer, tmp_path, now=NOW) == 10
    report = verify_chain(store, "c", signer.public_key, tmp_path)
    assert report.ok, report.problems
    assert (report.first_seq, report.last_seq) == (11, 15)
    with AuditLog(store, tmp_path, "c", signer=signer) as log:  # the chain goes on after a cut
        assert log.append({"ts": NOW, "kind": "call"}).result() == 16
    assert verify_chain(store, "c", signer.public_key, tmp_path).ok


def test_prune_refuses_a_period_below_six_months(tmp_path):
    store, signer = open_store(tmp_path), Signer(tmp_path)
    with pytest.raises(UsageError, match="below the 6-month minimum"):
        prune(store, "c", signer, tmp_path, keep_days=30, now=NOW)


def test_prune_refuses_a_tampered_chain(tmp_path):
    store, signer = open_store(tmp_path), Signer(tmp_path)
    with AuditLog(store, tmp_path, "c", signer=signer) as log:
        old_and_new(log)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM luban_audit WHERE seq = 3"))
    with pytest.raises(StageError, match="record 3 is missing.*not pruning"):
        prune(store, "c", signer, tmp_path, now=NOW)


def test_deleting_records_before_a_cut_is_not_hidden_by_it(tmp_path):
    store, signer = open_store(tmp_path), Signer(tmp_path)
    with AuditLog(store, tmp_path, "c", signer=signer) as log:
        old_and_new(log)
    prune(store, "c", signer, tmp_path, now=NOW)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM luban_audit WHERE seq = 11"))
    assert verify_chain(store, "c", signer.public_key, tmp_path).problems[0].startswith("record 11 is missing")


def test_query_by_key_action_purpose_and_time(tmp_path):
    store = open_store(tmp_path)
    with AuditLog(store, tmp_path, "c") as log:
        old_and_new(log)
    assert [r["seq"] for r in find(store, Filter(action="blocked"))] == [12, 14]
    assert len(list(find(store, Filter(key="k1")))) == 10
    assert len(list(find(store, Filter(purpose="support", since=NOW - 3 * DAY)))) == 3
    assert list(find(store, Filter(model="nope"))) == []


def test_export_jsonl_and_csv_carry_every_matching_record(tmp_path):
    store = open_store(tmp_path)
    with AuditLog(store, tmp_path, "c") as log:
        old_and_new(log)
    buf = io.StringIO()
    assert write_jsonl(find(store, Filter(key="k2")), buf) == 5
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert {rec["key_id"] for rec in lines} == {"k2"} and all(len(rec["hash"]) == 64 for rec in lines)
    out = io.StringIO()
    assert write_csv(find(store, Filter()), out) == 15
    assert out.getvalue().splitlines()[0].startswith("chain,seq,ts,kind,key_id")


@pytest.mark.services
def test_postgres_store_keeps_one_chain_per_replica(tmp_path, postgres_url):
    store = AuditStore(postgres_url)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM luban_audit WHERE chain LIKE 'pgtest-%'"))
        conn.execute(text("DELETE FROM luban_audit_checkpoints WHERE chain LIKE 'pgtest-%'"))
    signer = Signer(tmp_path)
    chains = [f"pgtest-{os.getpid()}-a", f"pgtest-{os.getpid()}-b"]
    logs = [AuditLog(store, tmp_path, name, signer=signer) for name in chains]
    futures = [logs[i % 2].append({"ts": NOW + i, "kind": "call", "key_id": "k"}) for i in range(200)]
    for log in logs:
        log.close()
    assert all(f.done() and not f.exception() for f in futures)
    for name in chains:
        report = verify_chain(store, name, signer.public_key, tmp_path)
        assert report.ok and report.records == 100
