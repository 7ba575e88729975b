"""Roles on every operation: one table of which role may do what, for the admin API, the gateway and the CLI.

Roles (the gateway's keys carry one):
- admin: everything.
- developer: builds (data, training, evaluation, prompt templates, encryption), calls models, reads
  artifacts, tests guard policies; no keys, no audit, no deployment.
- app: calls models (within its key's scopes) and reads its own usage; nothing else.
- auditor: reads audit records, usage, keys' metadata (never secrets), prompt templates, artifacts and the
  compliance report, and verifies the audit chain; writes nothing.

Design choices:
- Operations are named "<area>.<verb>"; every admin route and every CLI command on a shared workspace names
  the operation it performs (ROUTES, COMMANDS). A route or command missing from those tables is refused,
  so a new one cannot ship without a decision on who may use it (a test checks every route and command).
- An unknown role is refused everywhere: no default rights.
"""

from __future__ import annotations

from luban.core.errors import UsageError

ROLES = ("admin", "developer", "app", "auditor")

ALL = ROLES
BUILDERS = ("admin", "developer")
READERS = ("admin", "auditor")

OPERATIONS: dict[str, tuple[str, ...]] = {
    "models.call": ("admin", "developer", "app"),
    "models.list": ALL,
    "whoami": ALL,
    "keys.read": READERS,
    "keys.write": ("admin",),
    "usage.read": READERS,
    "usage.read_own": ALL,
    "prompts.read": ("admin", "auditor", "developer"),
    "prompts.write": BUILDERS,
    "audit.read": READERS,
    "audit.verify": READERS,
    "audit.prune": ("admin",),
    "guard.test": ("admin", "developer", "auditor"),
    "guard.write": ("admin",),
    "artifacts.read": ("admin", "developer", "auditor"),
    "artifacts.write": BUILDERS,  # data, training, evaluation, compression, pipelines
    "artifacts.delete": ("admin",),
    "security.encrypt": BUILDERS,
    "security.rotate": ("admin",),
    "serve": ("admin",),
    "deploy": ("admin",),
    "compliance.read": READERS,
    "console.admin": ("admin",),
}

# the admin API: (method, route template) -> operation
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/admin/whoami"): "whoami",
    ("GET", "/admin/keys"): "keys.read",
    ("POST", "/admin/keys"): "keys.write",
    ("PATCH", "/admin/keys/{kid}"): "keys.write",
    ("DELETE", "/admin/keys/{kid}"): "keys.write",
    ("GET", "/admin/usage"): "usage.read_own",  # admins and auditors see all; others their own key
    ("GET", "/admin/usage/recent"): "usage.read_own",
    ("GET", "/admin/usage/costs"): "usage.read",
    ("GET", "/admin/prompts"): "prompts.read",
    ("GET", "/admin/prompts/{spec}"): "prompts.read",
    ("POST", "/admin/prompts"): "prompts.write",
    ("GET", "/admin/prompts/{name}/diff"): "prompts.read",
}

# CLI commands (space-separated path) -> operation, enforced when the CLI acts with an API key
COMMANDS: dict[str, str] = {
    "ls": "artifacts.read", "show": "artifacts.read", "lineage": "artifacts.read", "rm": "artifacts.delete",
    "gc": "artifacts.delete",
    "data curate": "artifacts.write", "data format": "artifacts.write", "data report": "artifacts.read",
    "data encrypt": "security.encrypt", "data labelstudio": "artifacts.write",
    "data labelstudio export": "artifacts.read",
    "train": "artifacts.write", "run": "artifacts.write", "export": "artifacts.write", "demo": "artifacts.write",
    "models tiny": "artifacts.write", "models list": "artifacts.read", "models advise": "artifacts.read",
    "models encrypt": "security.encrypt",
    "serve": "serve", "engine": "serve", "gateway": "serve",
    "keys create": "keys.write", "keys revoke": "keys.write", "keys list": "keys.read", "keys origins": "keys.write",
    "prompts add": "prompts.write", "prompts list": "prompts.read", "prompts show": "prompts.read",
    "prompts diff": "prompts.read",
    "usage": "usage.read",
    "audit verify": "audit.verify", "audit query": "audit.read", "audit export": "audit.read",
    "audit prune": "audit.prune",
    "security encrypt": "security.encrypt", "security rotate": "security.rotate", "security new-key": "security.rotate",
    "deploy nginx": "deploy", "deploy k8s": "deploy",
    "guard": "guard.test", "guard test": "guard.test", "guard check": "guard.test", "guard serve": "serve",
    "eval": "artifacts.write", "compress": "artifacts.write",
    "compliance report": "compliance.read",
    "config": "artifacts.read",  # config schema|check|show: read-only
}


class Forbidden(UsageError):
    """A role without the right to an operation (HTTP 403)."""

    status = 403


def allowed(role: str, operation: str) -> bool:
    return role in OPERATIONS.get(operation, ())


def require(role: str, operation: str, who: str = "this key") -> None:
    """Raise `Forbidden` (one line, naming who may) unless `role` may perform `operation`."""
    if operation not in OPERATIONS:
        raise Forbidden(f"'{operation}' is not an operation any role may perform",
                        "add it to luban.security.roles.OPERATIONS with the roles that may")
    if role not in ROLES:
        raise Forbidden(f"{who} has the unknown role '{role}'", f"roles: {', '.join(ROLES)}")
    if role not in OPERATIONS[operation]:
        raise Forbidden(f"{who} has role '{role}'; {operation} needs {' or '.join(OPERATIONS[operation])}",
                        "ask an admin for a key with that role")


def command_operation(path: str) -> str:
    """The operation of CLI command `path` ("keys create"); the group's entry when only it is listed."""
    words = path.split(" ")
    for n in range(len(words), 0, -1):  # "data labelstudio export", then "data labelstudio", then "data"
        if (prefix := " ".join(words[:n])) in COMMANDS:
            return COMMANDS[prefix]
    raise Forbidden(f"the command '{path}' has no entry in the role table",
                    "add it to luban.security.roles.COMMANDS before using it on a shared workspace")
