"""One typed registry for every plug-in kind: stages, operators, backends, detectors, scanners, readers,
executors, rewards, routers, upstreams, stores.

Design choices:
- An entry maps a short name to "module:Attr" (imported only when first asked for, so a plug-in with a
  heavy dependency costs nothing until a config names it) or to the object itself.
- A config may also name any importable "module:Attr" that is not registered: a user's own plug-in
  needs no change to Luban. It is checked like a registered one.
- `get` returns `type[T]` (or whatever the registry holds), checked against `base` when one is given,
  so a wrong entry fails where it is looked up, with its name, not deep inside a stage.
- An unknown name is a `ConfigError` (or the registry's own `error` class, e.g. `NotFoundError` for
  stages) with a did-you-mean hint, or the list of known names.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator
from typing import Any, Generic, TypeVar, cast

from luban.core.errors import ConfigError, LubanError

T = TypeVar("T")


class Registry(Generic[T]):
    """Names of one plug-in `kind` ("data operator", "serving backend", ...) -> classes (or callables).

    `base`, when given, is what every entry must be a subclass of (a class) or an instance of
    (a Protocol marked `runtime_checkable` is checked with `issubclass` where Python allows it).
    """

    def __init__(self, kind: str, entries: dict[str, str | T] | None = None, base: type | None = None,
                 error: type[LubanError] = ConfigError) -> None:
        self.kind = kind
        self.base = base
        self.error = error
        self._entries: dict[str, str | T] = dict(entries or {})
        self._loaded: dict[str, T] = {}

    def register(self, name: str, target: str | T) -> None:
        """Add `name` -> `target` ("module:Attr" or the object). Re-registering a name replaces it."""
        self._entries[name] = target
        self._loaded.pop(name, None)

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def check(self, name: str) -> None:
        """Raise the one-line `ConfigError` for an unknown name, without importing anything."""
        if name in self._entries or ":" in name:
            return
        close = difflib.get_close_matches(name, list(self._entries), n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(self._entries) or 'none'}"
        raise self.error(f"unknown {self.kind} '{name}'", hint)

    def checked(self, name: str) -> str:
        """`name` when known (or "module:Attr"), else a ValueError with the same message: for pydantic
        field validators, so a config names the bad value at its dotted key."""
        try:
            self.check(name)
        except LubanError as err:
            raise ValueError(str(err)) from None
        return name

    def get(self, name: str) -> T:
        """The entry named `name`, or the object at "module:Attr" for a name that is not registered."""
        if name in self._loaded:
            return self._loaded[name]
        self.check(name)
        target = self._entries.get(name, name)
        obj = import_object(target, self.kind, name) if isinstance(target, str) else target
        if self.base is not None and not _fits(obj, self.base):
            raise ConfigError(f"{self.kind} '{name}' is {obj!r}, not a {self.base.__name__}",
                              f"point it at a subclass of {self.base.__name__}")
        self._loaded[name] = cast(T, obj)
        return cast(T, obj)


def import_object(target: str, kind: str, name: str) -> Any:
    """The object at "module:Attr"; a bad target is a one-line `ConfigError` naming `kind` and `name`."""
    module, sep, attr = target.partition(":")
    if not sep or not module or not attr:
        raise ConfigError(f"{kind} '{name}' must be a registered name or 'module:Attr', got {target!r}")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise ConfigError(f"{kind} '{name}': cannot import module '{module}' ({err.name} is missing)",
                          "install the package that provides it, or fix the name") from None
    try:
        return getattr(mod, attr)
    except AttributeError:
        raise ConfigError(f"{kind} '{name}': module '{module}' has no attribute '{attr}'",
                          "fix the name after the colon") from None


def _fits(obj: Any, base: type) -> bool:
    if isinstance(obj, type):
        try:
            return issubclass(obj, base)
        except TypeError:  # a Protocol with data members: issubclass refuses, so check its methods
            return all(callable(getattr(obj, m, None)) for m in _protocol_methods(base))
    return isinstance(obj, base)


def _protocol_methods(protocol: type) -> set[str]:
    """The public methods a Protocol declares (its data members are instance attributes: not checkable here)."""
    return {n for cls in protocol.__mro__ if getattr(cls, "_is_protocol", False) and cls.__module__ != "typing"
            for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}
