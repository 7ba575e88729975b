"""One error family for the whole project.

Every error says what is wrong and what to do, in one line. The CLI prints `str(err)` and exits
with `err.exit_code`: 2 for bad usage or input (the user can fix it), 1 for a failure of the work.
"""

from __future__ import annotations


class LubanError(Exception):
    """Base of all Luban errors. `hint` tells the user what to do next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} — {hint}")


class UsageError(LubanError):
    """Bad input: a config, a path, a name that the user has to fix. Exit code 2."""

    exit_code = 2


class ConfigError(UsageError):
    """A YAML file or an override that does not fit the stage's config model."""


class NotFoundError(UsageError):
    """A named artifact, stage, model or file that does not exist."""


class WorkspaceError(UsageError):
    """The workspace cannot be used (read-only, locked, corrupt index)."""


class StageError(LubanError):
    """A stage failed while running."""
