"""Cross-border personal information (数据出境): what leaves for overseas upstreams, counted per year.

The guard hook masks or blocks personal information in requests to upstreams whose region is overseas
(the policy's `cross_border` rule). What is sent anyway (`action: count`, or a policy that lets it pass)
is recorded here: one row per distinct value per calendar year, stored as a keyed hash (HMAC-SHA256
with a random key kept in the same database), never the value itself.

Individuals are counted as distinct personal-information values: one person whose phone and e-mail both
left counts twice, so the figure is an upper bound, which is the safe side for choosing a regime.

Regimes of the Provisions on Promoting and Regulating Cross-Border Data Flows (CAC, 2024-03-22),
counted from 1 January of the year [thresholds: compliance-notes.md, marked to check against the text]:
- security assessment: a CII operator, or personal information of more than 1,000,000 individuals, or
  sensitive personal information of more than 10,000 individuals;
- standard contract (or certification): 100,000 to 1,000,000 individuals, or sensitive personal
  information of fewer than 10,000 individuals;
- exempt: fewer than 100,000 individuals and no sensitive personal information.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from luban.guard.detectors import Match
from luban.guard.scanners.pii import SENSITIVE

EXEMPT_BELOW = 100_000
ASSESSMENT_ABOVE = 1_000_000
SENSITIVE_ASSESSMENT_ABOVE = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB);
CREATE TABLE IF NOT EXISTS transfers (
  year INTEGER NOT NULL, hash TEXT NOT NULL, type TEXT NOT NULL, sensitive INTEGER NOT NULL,
  first_seen TEXT NOT NULL, upstream TEXT, PRIMARY KEY (year, hash));
"""


@dataclass(frozen=True)
class Summary:
    year: int
    individuals: int  # distinct personal-information values sent abroad this year
    sensitive_individuals: int
    regime: str  # exempt | standard_contract | security_assessment
    basis: str


def regime(individuals: int, sensitive: int, cii_operator: bool = False) -> tuple[str, str]:
    """The regime for a year's counts, and why."""
    if cii_operator:
        return "security_assessment", "critical information infrastructure operator"
    if individuals > ASSESSMENT_ABOVE:
        return "security_assessment", f"personal information of more than {ASSESSMENT_ABOVE:,} individuals"
    if sensitive > SENSITIVE_ASSESSMENT_ABOVE:
        return "security_assessment", f"sensitive personal information of more than {SENSITIVE_ASSESSMENT_ABOVE:,} individuals"
    if individuals >= EXEMPT_BELOW:
        return "standard_contract", f"personal information of {EXEMPT_BELOW:,} to {ASSESSMENT_ABOVE:,} individuals"
    if sensitive > 0:
        return "standard_contract", f"sensitive personal information of fewer than {SENSITIVE_ASSESSMENT_ABOVE:,} individuals"
    return "exempt", f"fewer than {EXEMPT_BELOW:,} individuals, no sensitive personal information"


def _canonical(m: Match) -> str:
    value = m.text.strip().lower()
    if m.type in ("cn_mobile", "cn_landline", "phone", "bank_card", "cn_id"):
        value = re.sub(r"[^0-9x]", "", value)
    return f"{m.type}:{value}"


class Ledger:
    """The per-year record of personal information sent abroad, in SQLite (safe across threads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT v FROM meta WHERE k = 'key'").fetchone()
        if row is None:
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('key', ?)", (os.urandom(32),))
            row = self._db.execute("SELECT v FROM meta WHERE k = 'key'").fetchone()
        self._key: bytes = row[0]

    def record(self, matches: list[Match], upstream: str | None = None, when: datetime | None = None) -> int:
        """Record values sent abroad; returns how many were new this year."""
        if not matches:
            return 0
        when = when or datetime.now(timezone.utc)
        rows = [(when.year, hmac.new(self._key, _canonical(m).encode(), hashlib.sha256).hexdigest(), m.type,
                 int(m.type in SENSITIVE), when.isoformat(timespec="seconds"), upstream) for m in matches]
        with self._lock:
            before = self._db.total_changes
            self._db.executemany("INSERT OR IGNORE INTO transfers VALUES (?, ?, ?, ?, ?, ?)", rows)
            return self._db.total_changes - before

    def summary(self, year: int | None = None, cii_operator: bool = False) -> Summary:
        year = year or datetime.now(timezone.utc).year
        with self._lock:
            total, sensitive = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(sensitive), 0) FROM transfers WHERE year = ?", (year,)).fetchone()
        name, basis = regime(total, sensitive, cii_operator)
        return Summary(year, total, sensitive, name, basis)

    def close(self) -> None:
        self._db.close()


def ledger_path(workspace: Path) -> Path:
    """Where a workspace keeps its ledger."""
    return Path(workspace) / "guard" / "crossborder.sqlite"


def cross_border_summary(workspace: Path, year: int | None = None, cii_operator: bool = False) -> Summary:
    """For the compliance report: this workspace's counts for `year` and the regime they fall under."""
    path = ledger_path(workspace)
    if not path.exists():
        name, basis = regime(0, 0, cii_operator)
        return Summary(year or datetime.now(timezone.utc).year, 0, 0, name, basis)
    ledger = Ledger(path)
    try:
        return ledger.summary(year, cii_operator)
    finally:
        ledger.close()
