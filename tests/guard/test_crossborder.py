"""Cross-border ledger: distinct values per year, hashed, persisted; the regime for the counts."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from luban.guard import detectors
from luban.guard.crossborder import Ledger, cross_border_summary, ledger_path, regime


def test_counts_distinct_values_per_year_and_persists(tmp_path: Path) -> None:
    path = ledger_path(tmp_path)
    led = Ledger(path)
    found = detectors.scan("张三 13812345678, zs@example.com; 身份证11010519491231002X")
    assert led.record(found, "gpt-4o") == 3
    again = detectors.scan("call 138 1234 5678 or ZS@example.com")  # the same people, written differently
    assert led.record(again, "gpt-4o") == 0
    assert led.record(detectors.scan("13912345678"), when=datetime(2025, 6, 1, tzinfo=timezone.utc)) == 1
    led.close()
    this_year = datetime.now(timezone.utc).year
    s = cross_border_summary(tmp_path)
    assert (s.year, s.individuals, s.sensitive_individuals, s.regime) == (this_year, 3, 1, "standard_contract")
    assert cross_border_summary(tmp_path, 2025).individuals == 1
    raw = path.read_bytes()
    assert b"13812345678" not in raw and b"example.com" not in raw  # only keyed hashes are stored


def test_regimes_by_the_2024_provisions() -> None:
    assert regime(99_999, 0)[0] == "exempt"
    assert regime(100_000, 0)[0] == "standard_contract"
    assert regime(10, 5)[0] == "standard_contract"
    assert regime(1_000_001, 0)[0] == "security_assessment"
    assert regime(50_000, 10_001)[0] == "security_assessment"
    assert regime(0, 0, cii_operator=True)[0] == "security_assessment"


def test_summary_without_a_ledger(tmp_path: Path) -> None:
    s = cross_border_summary(tmp_path / "empty")
    assert s.individuals == 0 and s.regime == "exempt"
