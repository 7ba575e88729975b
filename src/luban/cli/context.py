"""State shared by all commands of one invocation: the workspace and the --debug flag."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from rich.console import Console

from luban.core.workspace import Workspace


@dataclass
class CLIState:
    workspace_path: str | None = None
    db_url: str | None = None
    debug: bool = False
    quiet: bool = False
    _ws: Workspace | None = field(default=None, repr=False)

    def workspace(self) -> Workspace:
        if self._ws is None:
            self._ws = Workspace(self.workspace_path, self.db_url)
            if os.environ.get("LUBAN_AUDIT_STAGES", "1") != "0":
                from luban.audit.stages import attach

                attach(self._ws)  # every stage run through the CLI lands in the audit log
            from luban.security.artifacts import attach as attach_decryption

            attach_decryption(self._ws)  # encrypted artifacts read transparently (when a master key is set)
        return self._ws


state = CLIState()
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
