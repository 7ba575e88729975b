"""Progress reporting that stages call and only the CLI renders.

Stages never print. They wrap long loops in `task(...)`; by default nothing is shown, and the CLI
installs a rich-based reporter with `set_reporter`. Python users can install their own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Protocol


class Task(Protocol):
    def advance(self, n: float = 1, **fields: object) -> None: ...

    def update(self, *, total: float | None = None, description: str | None = None, **fields: object) -> None: ...


class Reporter(Protocol):
    def task(self, description: str, total: float | None) -> contextlib.AbstractContextManager[Task]: ...

    def log(self, message: str) -> None: ...


class _NullTask:
    def advance(self, n: float = 1, **fields: object) -> None:
        pass

    def update(self, *, total: float | None = None, description: str | None = None, **fields: object) -> None:
        pass


class NullReporter:
    @contextlib.contextmanager
    def task(self, description: str, total: float | None) -> Iterator[Task]:
        yield _NullTask()

    def log(self, message: str) -> None:
        pass


_reporter: Reporter = NullReporter()


def set_reporter(reporter: Reporter) -> Reporter:
    """Install `reporter`; returns the previous one so callers can restore it."""
    global _reporter
    previous, _reporter = _reporter, reporter
    return previous


def task(description: str, total: float | None = None) -> contextlib.AbstractContextManager[Task]:
    return _reporter.task(description, total)


def log(message: str) -> None:
    _reporter.log(message)
