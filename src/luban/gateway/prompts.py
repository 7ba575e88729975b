"""Prompt templates: named, versioned system prompts and few-shot examples with variables.

A request names one with `"luban": {"prompt": "support@3", "variables": {...}}` (or its key carries one),
and `PromptHook` renders it into the messages before routing.

Design choices:
- A template is a workspace artifact of kind `prompt` named `<name>@<version>`: immutable, content-hashed,
  with lineage (its source file and the version it replaces). Versions count up from 1; `support` alone
  means the newest. Adding a template identical to the newest version is refused, not duplicated.
- Templates are Jinja2 in an `ImmutableSandboxedEnvironment` with `StrictUndefined`: a template can read
  its variables and nothing else, and a missing variable is an error naming it, never an empty string.
  Variables that no part of the template uses are refused too: a misspelt name would otherwise be lost.
- Rendered messages: the system prompt, then the few-shot examples, then the request's own messages,
  then the template's `user` message when it has one (an app that sends only variables).
- The hot path reads templates from memory: a version never changes, so it is compiled once and kept;
  which version is newest is looked up again after `ttl_s` seconds. Only a miss reads the workspace, in
  a worker thread.
"""

from __future__ import annotations

import asyncio
import difflib
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from luban.core.artifact import Artifact, artifact_parent, file_parent
from luban.core.errors import ConfigError, NotFoundError, UsageError
from luban.core.hashing import sha256_file
from luban.core.workspace import Workspace
from luban.gateway.hooks import BaseHook, CallContext, HookEnv, Refusal

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SPEC = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,63})(?:@(?P<version>[0-9]+))?$")
FILE = "template.yaml"
ROLES = ("system", "user", "assistant")

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class Variable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = ""
    default: Any = None


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: str
    content: str


class PromptTemplate(BaseModel):
    """What a template file holds (YAML). A plain text file is a template with only `system`."""

    model_config = ConfigDict(extra="forbid")
    description: str = ""
    system: str | None = None
    examples: list[Example] = Field(default_factory=list)  # few-shot messages, in order
    user: str | None = None
    variables: dict[str, Variable] = Field(default_factory=dict)  # descriptions and defaults

    def parts(self) -> list[tuple[str, str, str]]:
        """(where, role, source) of every templated text, in message order."""
        out = [("system", "system", self.system)] if self.system is not None else []
        out += [(f"examples[{i}]", e.role, e.content) for i, e in enumerate(self.examples)]
        return out + ([("user", "user", self.user)] if self.user is not None else [])

    def used_variables(self) -> set[str]:
        return {v for _, _, src in self.parts() for v in meta.find_undeclared_variables(_env.parse(src))}


def parse_template(text: str, source: str = "template") -> PromptTemplate:
    """A template from YAML (a mapping) or plain text (the system prompt); checked for syntax and roles."""
    if not text.strip():
        raise ConfigError(f"{source}: the template is empty", "give at least `system`, `examples` or `user`")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    try:
        tpl = PromptTemplate.model_validate(data) if isinstance(data, dict) else PromptTemplate(system=text)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ConfigError(f"{source}: '{where}': {err['msg']}",
                          "a template has description, system, examples [{role, content}], user, variables") from None
    if tpl.system is None and not tpl.examples and tpl.user is None:
        raise ConfigError(f"{source}: the template is empty", "give at least `system`, `examples` or `user`")
    for where, role, src in tpl.parts():
        if role not in ROLES:
            raise ConfigError(f"{source}: {where} has role '{role}'", f"use one of {', '.join(ROLES)}")
        try:
            _env.parse(src)
        except TemplateSyntaxError as e:
            raise ConfigError(f"{source}: {where} line {e.lineno}: {e.message}", "fix the Jinja2 syntax") from None
    unused = sorted(set(tpl.variables) - tpl.used_variables())
    if unused:
        raise ConfigError(f"{source}: variables {', '.join(unused)} are declared but no part uses them",
                          "remove them, or use them as {{ name }}")
    return tpl


class _BlockDumper(yaml.SafeDumper):
    """Multi-line texts as `|` blocks, so that a diff of two versions shows lines, not one long string."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_BlockDumper.add_representer(str, _str)


@dataclass
class PromptVersion:
    """One version of a named template, compiled and ready to render."""

    name: str
    version: int
    template: PromptTemplate
    artifact_id: str
    created: str

    def __post_init__(self) -> None:
        self._compiled = [(where, role, _env.from_string(src)) for where, role, src in self.template.parts()]
        self.variables = sorted(self.template.used_variables())

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def render(self, variables: dict[str, Any] | None = None) -> tuple[list[dict[str, str]], dict[str, str] | None]:
        """(messages that go before the request's, the `user` message that goes after it, or None).

        Raises `UsageError` naming the template and the variable that is missing or unknown.
        """
        given = dict(variables or {})
        unknown = sorted(set(given) - set(self.variables))
        if unknown:
            raise UsageError(f"prompt template '{self.ref}' has no variable {', '.join(map(repr, unknown))}",
                             f"it uses: {', '.join(self.variables) or 'none'}")
        values = {k: v.default for k, v in self.template.variables.items() if v.default is not None}
        values.update(given)
        missing = [v for v in self.variables if v not in values]
        if missing:
            raise UsageError(f"prompt template '{self.ref}' needs variable {', '.join(map(repr, missing))}",
                             'pass it in "luban": {"variables": {...}}')
        head: list[dict[str, str]] = []
        tail = None
        for where, role, tpl in self._compiled:
            try:
                text = tpl.render(values)
            except UndefinedError as e:  # an attribute or item of a variable that is not there
                raise UsageError(f"prompt template '{self.ref}' ({where}): {e.message}",
                                 "check the variables' values") from None
            except SecurityError as e:
                raise UsageError(f"prompt template '{self.ref}' ({where}) was refused by the sandbox: {e}") from None
            if where == "user":
                tail = {"role": role, "content": text}
            else:
                head.append({"role": role, "content": text})
        return head, tail


def parse_spec(spec: str) -> tuple[str, int | None]:
    m = SPEC.match(spec.strip()) if isinstance(spec, str) else None
    if m is None:
        raise UsageError(f"'{spec}' is not a prompt template name", "use NAME or NAME@VERSION, e.g. support@3")
    return m["name"], int(m["version"]) if m["version"] else None


class PromptLibrary:
    """The prompt templates of a workspace: add, list, read, diff; cached for the hot path."""

    def __init__(self, workspace: Workspace, ttl_s: float = 10.0) -> None:
        self.ws = workspace
        self.ttl_s = ttl_s
        self._versions: dict[tuple[str, int], PromptVersion] = {}
        self._latest: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    # -- writing ---------------------------------------------------------------------------
    def add(self, name: str, text: str, source: Path | None = None, description: str | None = None) -> PromptVersion:
        """Store `text` (YAML template or plain system prompt) as the next version of `name`."""
        if not NAME.match(name):
            raise UsageError(f"'{name}' is not a valid template name",
                             "use letters, digits, '.', '_' or '-' (up to 64), e.g. support-zh")
        tpl = parse_template(text, str(source) if source else name)
        if description is not None:
            tpl.description = description
        versions = self.versions(name)
        parents = []
        if versions:
            newest = self.get(name, versions[-1])
            if newest.template == tpl:
                raise UsageError(f"'{name}' is unchanged from {newest.ref}", "edit the template before adding it")
            parents.append(artifact_parent(self.ws.get(newest.ref), role="previous"))
        if source is not None:
            parents.append(file_parent(source.resolve(), sha256_file(source), role="source"))
        version = (versions[-1] if versions else 0) + 1
        ref = f"{name}@{version}"
        body = yaml.dump(tpl.model_dump(exclude_defaults=True), Dumper=_BlockDumper, allow_unicode=True,
                         sort_keys=False)
        with self.ws.create("prompt", ref, stage="prompts.add", config={"name": name, "version": version},
                            parents=parents) as pending:
            (pending.path / FILE).write_text(body, encoding="utf-8")
            pending.stats.update(prompt=name, version=version, variables=sorted(tpl.used_variables()))
        assert pending.result is not None
        with self._lock:
            self._latest.pop(name, None)
        return self._load(pending.result, name, version)

    # -- reading ---------------------------------------------------------------------------
    def names(self) -> dict[str, list[int]]:
        """Every template name with its versions, in order."""
        out: dict[str, list[int]] = {}
        if self.ws.is_new():
            return out
        for ref in self.ws.index.refs():
            m = SPEC.match(ref)
            if m and m["version"]:
                out.setdefault(m["name"], []).append(int(m["version"]))
        kinds = {a.name: a.kind for a, _ in self.ws.list("prompt")}
        return {n: sorted(v) for n, v in sorted(out.items()) if kinds.get(f"{n}@{max(v)}") == "prompt"}

    def versions(self, name: str) -> list[int]:
        return self.names().get(name, [])

    def get(self, name: str, version: int | None = None) -> PromptVersion:
        """A version of `name` (the newest when `version` is None), from memory when it can."""
        if version is None:
            with self._lock:
                hit = self._latest.get(name)
            if hit is not None and hit[1] > time.monotonic():
                version = hit[0]
            else:
                versions = self.versions(name)
                if not versions:
                    raise NotFoundError(f"no prompt template '{name}'", self._hint(name))
                version = versions[-1]
                with self._lock:
                    self._latest[name] = (version, time.monotonic() + self.ttl_s)
        with self._lock:
            cached = self._versions.get((name, version))
        if cached is not None:
            return cached
        ref = f"{name}@{version}"
        try:
            art = self.ws.get(ref)
        except NotFoundError:
            versions = self.versions(name)
            hint = f"versions: {', '.join(map(str, versions))}" if versions else self._hint(name)
            raise NotFoundError(f"no prompt template '{ref}'", hint) from None
        if art.kind != "prompt":
            raise NotFoundError(f"'{ref}' is a {art.kind}, not a prompt template", self._hint(name))
        return self._load(art, name, version)

    def resolve(self, spec: str) -> PromptVersion:
        return self.get(*parse_spec(spec))

    def cached(self, spec: str) -> PromptVersion | None:
        """The compiled version for `spec` if memory has it (and, for a bare name, its newest is fresh)."""
        name, version = parse_spec(spec)
        with self._lock:
            if version is None:
                hit = self._latest.get(name)
                if hit is None or hit[1] <= time.monotonic():
                    return None
                version = hit[0]
            return self._versions.get((name, version))

    def source(self, name: str, version: int | None = None) -> str:
        pv = self.get(name, version)
        return (self.ws.get(pv.ref).path / FILE).read_text(encoding="utf-8")

    def diff(self, name: str, a: int, b: int | None = None) -> str:
        """Unified diff of version `a` against `b` (default: the newest)."""
        old, new = self.get(name, a), self.get(name, b)
        return "".join(difflib.unified_diff(self.source(name, old.version).splitlines(keepends=True),
                                            self.source(name, new.version).splitlines(keepends=True),
                                            fromfile=old.ref, tofile=new.ref))

    def _load(self, art: Artifact, name: str, version: int) -> PromptVersion:
        tpl = parse_template((art.path / FILE).read_text(encoding="utf-8"), f"{name}@{version}")
        pv = PromptVersion(name=name, version=version, template=tpl, artifact_id=art.id, created=art.manifest.created)
        with self._lock:
            self._versions[(name, version)] = pv
        return pv

    def _hint(self, name: str) -> str:
        names = list(self.names())
        close = difflib.get_close_matches(name, names, n=1)
        if close:
            return f"did you mean '{close[0]}'?"
        return f"known: {', '.join(names)}" if names else "add one with `luban prompts add NAME FILE`"


class PromptHook(BaseHook):
    """pre_call: render the request's (or its key's) prompt template into its messages.

    Options (gateway.yaml `hooks: [{use: prompts, with: {...}}]`): `workspace` (default: the gateway's),
    `db_url` (the workspace index; default LUBAN_DB_URL or the workspace's SQLite), `ttl_s` (how long
    "newest version" is trusted).
    """

    name = "prompts"

    def __init__(self, workspace: str | None = None, db_url: str | None = None, ttl_s: float = 10.0,
                 library: PromptLibrary | None = None) -> None:
        self.workspace, self.db_url, self.ttl_s = workspace, db_url, ttl_s
        self._library = library

    @property
    def library(self) -> PromptLibrary:
        if self._library is None:
            self._library = PromptLibrary(Workspace(self.workspace, self.db_url), ttl_s=self.ttl_s)
        return self._library

    async def start(self, env: HookEnv) -> None:
        if self._library is None and self.workspace is None and env.workspace is not None:
            self.workspace = str(env.workspace)

    async def pre_call(self, ctx: CallContext) -> None:
        options = ctx.body.get("luban")
        if options is not None and not isinstance(options, dict):
            raise Refusal('"luban" must be an object, e.g. {"prompt": "support@3", "variables": {...}}',
                          status=400, code="invalid_prompt")
        spec = options.pop("prompt", None) if options else None
        variables = options.pop("variables", None) if options else None
        if options is not None and not options:
            del ctx.body["luban"]
        if spec is None and ctx.key is not None:
            spec = ctx.key.prompt
        if spec is None:
            if variables is not None:
                raise Refusal('"luban.variables" was given without "luban.prompt"', status=400, code="invalid_prompt")
            return
        if variables is not None and not isinstance(variables, dict):
            raise Refusal(f"the variables of prompt template '{spec}' must be an object", status=400,
                          code="invalid_prompt")
        if ctx.route != "chat.completions":
            raise Refusal(f"prompt template '{spec}' applies to chat completions only, not {ctx.route}",
                          status=400, code="invalid_prompt")
        try:
            cached = self.library.cached(spec)
            pv = cached if cached is not None else await asyncio.to_thread(self.library.resolve, spec)
            head, tail = pv.render(variables)
        except UsageError as e:  # NotFoundError included
            raise Refusal(str(e), status=400, code="invalid_prompt") from None
        messages = ctx.body.get("messages") or []
        if not isinstance(messages, list):
            raise Refusal("'messages' must be a list", status=400, code="invalid_request_error")
        ctx.body["messages"] = head + messages + ([tail] if tail else [])
        ctx.extra["prompt"] = pv.ref
