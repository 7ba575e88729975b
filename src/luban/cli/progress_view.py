"""Renders luban.core.progress tasks as rich progress bars on stderr."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from luban.cli.context import err_console


class _RichTask:
    def __init__(self, progress: Progress, task_id: int) -> None:
        self._p, self._id = progress, task_id

    def advance(self, n: float = 1, **fields: object) -> None:
        self._p.update(self._id, advance=n, info=_fmt(fields))  # type: ignore[arg-type]

    def update(self, *, total: float | None = None, description: str | None = None, **fields: object) -> None:
        kw: dict[str, object] = {"info": _fmt(fields)} if fields else {}
        if total is not None:
            kw["total"] = total
        if description is not None:
            kw["description"] = description
        self._p.update(self._id, **kw)  # type: ignore[arg-type]


def _fmt(fields: dict[str, object]) -> str:
    return "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items())


class RichReporter:
    def __init__(self) -> None:
        self.progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                                 console=err_console, transient=True)
        self._depth = 0

    @contextlib.contextmanager
    def task(self, description: str, total: float | None) -> Iterator[_RichTask]:
        if self._depth == 0:
            self.progress.start()
        self._depth += 1
        task_id = self.progress.add_task(description, total=total, info="")
        try:
            yield _RichTask(self.progress, task_id)
        finally:
            self.progress.remove_task(task_id)
            self._depth -= 1
            if self._depth == 0:
                self.progress.stop()

    def log(self, message: str) -> None:
        err_console.print(f"[dim]{escape(message)}[/dim]")
