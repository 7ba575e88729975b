"""The audit chain: appends verify, and every kind of tampering is caught and named."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from luban.audit import AuditLog, open_store
from luban.audit.record import canonical, chain_hash
from luban.audit.signing import Signer
from luban.audit.store import AuditStore, checkpoints_table, records_table
from luban.audit.verify import verify_chain

CHAIN = "gw-test"


def call(i: int, **extra: object) -> dict[str, object]:
    return {"ts": 1_700_000_000.0 + i, "kind": "call", "key_id": f"k{i % 3}", "model": "acme-chat",
            "purpose": "support", "action": "ok", "status": 200, "prompt_tokens": i, **extra}


@pytest.fixture()
def logged(tmp_path: Path) -> tuple[AuditStore, Signer, Path]:
    store = open_store(tmp_path)
    signer = Signer(tmp_path)
    with AuditLog(store, tmp_path, CHAIN, signer=signer, batch=7) as log:
        futures = [log.append(call(i)) for i in range(1, 51)]
    assert [f.result() for f in futures] == list(range(1, 51))
    return store, signer, tmp_path


def verify(store: AuditStore, signer: Signer, folder: Path):
    return verify_chain(store, CHAIN, signer.public_key, folder)


def test_an_untouched_chain_verifies_and_its_head_is_signed(logged):
    store, signer, folder = logged
    report = verify(store, signer, folder)
    assert report.ok, report.problems
    assert (report.records, report.first_seq, report.last_seq, report.signed_seq) == (50, 1, 50, 50)


def test_a_reopened_log_continues_the_same_chain(logged):
    store, signer, folder = logged
    with AuditLog(store, folder, CHAIN, signer=signer) as log:
        assert log.append(call(51)).result() == 51
    assert verify(store, signer, folder).ok


def test_modified_body_is_named(logged):
    store, signer, folder = logged
    tampered = canonical(call(17, status=500))
    with store.engine.begin() as conn:
        conn.execute(update(records_table).where(records_table.c.seq == 17).values(body=tampered))
    assert verify(store, signer, folder).problems[0] == "record 17 was modified: its hash does not match its content"


def test_modified_indexed_column_is_named(logged):
    store, signer, folder = logged
    with store.engine.begin() as conn:
        conn.execute(update(records_table).where(records_table.c.seq == 9).values(key_id="someone-else"))
    assert verify(store, signer, folder).problems[0] == "record 9 was modified: column 'key_id' differs from the record"


def test_deleted_record_is_named(logged):
    store, signer, folder = logged
    with store.engine.begin() as conn:
        conn.execute(delete(records_table).where(records_table.c.seq == 23))
    assert verify(store, signer, folder).problems[0].startswith("record 23 is missing: deleted")


def test_inserted_record_is_caught_even_with_a_rewritten_tail(logged):
    store, signer, folder = logged
    rows = [r for r in store.rows(CHAIN)]
    # insert a record after 30 and rewrite every later hash, so the linkage alone looks fine
    with store.engine.begin() as conn:
        conn.execute(delete(records_table).where(records_table.c.seq > 30))
        prev = rows[29].hash
        new = [call(999)] + [__import__("json").loads(r.body) for r in rows[30:]]
        for seq, rec in enumerate(new, start=31):
            body = canonical(rec)
            h = chain_hash(prev, body)
            conn.execute(insert(records_table).values(chain=CHAIN, seq=seq, body=body, prev=prev, hash=h,
                                                      ts=rec["ts"], kind=rec["kind"], key_id=rec["key_id"],
                                                      model=rec["model"], purpose=rec["purpose"],
                                                      action=rec["action"]))
            prev = h
    problems = verify(store, signer, folder).problems
    assert problems[0] == "record 50 differs from the signed checkpoint at 50: the chain was rewritten"


def test_reordered_records_are_named(logged):
    store, signer, folder = logged
    with store.engine.begin() as conn:
        c = records_table.c
        conn.execute(update(records_table).where(c.seq == 12).values(seq=-12))
        conn.execute(update(records_table).where(c.seq == 13).values(seq=12))
        conn.execute(update(records_table).where(c.seq == -12).values(seq=13))
    assert verify(store, signer, folder).problems[0] == "record 12 does not follow record 11: inserted or reordered"


def test_cut_tail_is_caught_by_the_signed_checkpoint(logged):
    store, signer, folder = logged
    with store.engine.begin() as conn:
        conn.execute(delete(records_table).where(records_table.c.seq > 44))
    problems = verify(store, signer, folder).problems
    assert problems == ["the log ends at record 44 but a signed checkpoint covers record 50: "
                        "records were cut from the tail"]


def test_cut_tail_is_caught_even_when_the_checkpoint_rows_are_deleted_too(logged):
    store, signer, folder = logged
    with store.engine.begin() as conn:
        conn.execute(delete(records_table).where(records_table.c.seq > 44))
        conn.execute(delete(checkpoints_table))
    assert "records were cut from the tail" in verify(store, signer, folder).problems[0]


def test_forged_checkpoint_is_refused(logged, tmp_path_factory):
    store, signer, folder = logged
    other = Signer(tmp_path_factory.mktemp("other"))
    store.add_checkpoint(other.sign(CHAIN, 60, "head", "f" * 64, time.time()))
    assert verify(store, signer, folder).problems[0] == "checkpoint at record 60 has a bad signature: forged or edited"


def test_append_waits_out_a_store_outage(tmp_path, monkeypatch):
    store = open_store(tmp_path)
    real = store.append
    calls = {"n": 0}

    def flaky(rows):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OSError("disk gone")
        real(rows)

    monkeypatch.setattr(store, "append", flaky)
    with AuditLog(store, tmp_path, CHAIN) as log:
        fut = log.append(call(1))
        assert fut.result(timeout=5) == 1
    assert calls["n"] == 3
    assert store.count(CHAIN) == 1


def test_records_committed_before_the_future_resolves(tmp_path):
    store = open_store(tmp_path)
    with AuditLog(store, tmp_path, CHAIN) as log:
        seq = log.append(call(1)).result(timeout=5)
        with store.engine.connect() as conn:  # a separate connection sees it: committed
            assert conn.execute(select(records_table.c.seq)).scalars().all() == [seq]


def test_a_batch_appended_at_once_is_the_same_chain_as_one_by_one(tmp_path: Path) -> None:
    one, many = tmp_path / "one", tmp_path / "many"
    signer = Signer(tmp_path)
    with AuditLog(open_store(one), one, CHAIN, signer=signer) as log:
        singles = [log.append(call(i)) for i in range(1, 8)]
    with AuditLog(open_store(many), many, CHAIN, signer=signer, batch=2) as log:
        first = log.append(call(1))
        batch = log.append_many([call(i) for i in range(2, 7)])
        last = log.append(call(7))
    assert [f.result() for f in singles] == list(range(1, 8))
    assert (first.result(), batch.result(), last.result()) == (1, 6, 7)  # a batch's future: its last seq
    heads = [open_store(p).head(CHAIN) for p in (one, many)]
    assert heads[0] == heads[1] and heads[0] is not None and heads[0][0] == 7  # the same records, the same hashes
    assert verify_chain(open_store(many), CHAIN, signer.public_key, many).ok


def test_a_log_without_a_thread_commits_on_the_callers_and_signs_at_close(tmp_path):
    store = open_store(tmp_path)
    log = AuditLog(store, tmp_path, CHAIN, background=False)
    assert log.commit([call(1), call(2)]) == 2
    assert log.commit([call(3)], [canonical(call(3))]) == 3
    log.close()  # signs the head: a truncated tail would be caught
    assert verify_chain(store, CHAIN, Signer(tmp_path).public_key, tmp_path).ok
    assert [r.seq for r in store.rows(CHAIN)] == [1, 2, 3]
    with AuditLog(store, tmp_path, CHAIN) as threaded, pytest.raises(RuntimeError, match="background=False"):
        threaded.commit([call(4)])
