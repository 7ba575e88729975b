"""Stage configs: pydantic models loaded from YAML, with dotted overrides from the command line.

Design choices:
- one pydantic model per stage, `extra="forbid"` everywhere, so a typo is an error, not a silent default;
- the error names the bad key by its full dotted path and the closest valid key (difflib);
- overrides are `a.b.c=value`, the value parsed as YAML (`1e-4` -> float, `[1,2]` -> list, `true` -> bool);
- paths belong to the file that names them: a field declared `InputPath` (or `InputPathOrName`, `WorkPath`)
  is resolved against the folder of the YAML file it was read from, a command-line override against the
  current folder, when the config is built. The config remembers its `root` (the folder of the recipe
  or spec; the current folder when built from overrides alone); `dump_config` and `cfg.portable()`
  write paths below the root relative to it, so manifests and run keys do not depend on where the
  user stands, and only declared input paths are hashed into a run key (`declared_paths`).
"""

from __future__ import annotations

import difflib
import glob
import os
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from luban.core.errors import ConfigError, NotFoundError

C = TypeVar("C", bound="StageConfig")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class PathField:
    """Marks a config field (a str, or a list of them) as a path on disk.

    content: what the path names is an input of the stage, so a run key hashes it (not for a folder
        to work in, such as a spill folder or a tool's checkout).
    or_name: the value may instead be a name (a dataset artifact, a catalog template); it is taken as
        a path only when it looks like one: it has a "/", a "~" or a glob character, or it exists."""

    content: bool = True
    or_name: bool = False


InputPath = Annotated[str, PathField()]
InputPathOrName = Annotated[str, PathField(or_name=True)]
WorkPath = Annotated[str, PathField(content=False)]


class StageConfig(BaseModel):
    """Base of every stage config: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())
    _root: Path = PrivateAttr(default_factory=Path.cwd)

    @property
    def root(self) -> Path:
        """The folder this config's paths were declared in: its recipe's or spec's, else the current one."""
        return self._root

    def portable(self, path: str | Path) -> str:
        """`path` as lineage records it: relative to `root` (POSIX) when below it, else absolute."""
        return portable_path(path, self._root)

    def __eq__(self, other: object) -> bool:
        """Equal values are equal configs: where they were declared (`root`) is not part of the value."""
        if not isinstance(other, StageConfig):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__


def portable_path(path: str | Path, root: Path) -> str:
    """`path` relative to `root` (POSIX) when it lies below it, else absolute (resolved against `root`)."""
    absolute = Path(os.path.normpath(root / Path(path).expanduser()))
    for p, r in ((absolute, Path(os.path.abspath(root))), (absolute.resolve(), root.resolve())):
        try:
            return p.relative_to(r).as_posix()
        except ValueError:
            continue
    return absolute.as_posix()


def looks_like_path(value: str, base: Path) -> bool:
    """For a path-or-name field: whether `value` is meant as a path (see `PathField.or_name`)."""
    return ("/" in value or os.sep in value or value.startswith("~") or glob.has_magic(value)
            or (base / value).exists())


def resolve_path(value: str, base: Path, spec: PathField = PathField()) -> str:
    """`value` against `base` (absolute values, and names of a path-or-name field, stay as they are)."""
    if not value or spec.or_name and not looks_like_path(value, base):
        return value
    return os.path.normpath(os.path.join(base, os.path.expanduser(value)))


def resolve_paths(model: type[BaseModel], data: dict[str, Any], base: str | Path) -> dict[str, Any]:
    """Raw config data with every declared path of `model` resolved against `base` (not validated yet)."""
    folder = Path(os.path.abspath(base))
    return _map_model(model, data, lambda v, spec: resolve_path(v, folder, spec))


def declared_paths(cfg: BaseModel) -> Iterator[tuple[str, PathField]]:
    """Every path value a built config declares, with its field's marker. A path-or-name value counts when
    building the config resolved it (made it absolute); else it was taken as a name."""
    found: list[tuple[str, PathField]] = []

    def visit(value: str, spec: PathField) -> str:
        if value and (os.path.isabs(value) or not spec.or_name):
            found.append((value, spec))
        return value

    _map_model(type(cfg), cfg.model_dump(mode="json"), visit)
    yield from found


def _root(cfg: BaseModel) -> Path:
    return cfg.root if isinstance(cfg, StageConfig) else Path.cwd()


PathFn = Callable[[str, PathField], str]


def _map_model(model: type[BaseModel], data: Any, fn: PathFn) -> Any:
    """`data` (the raw or dumped fields of `model`) with `fn` applied to each declared path value."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, field in model.model_fields.items():
        spec = next((m for m in field.metadata if isinstance(m, PathField)), None)
        for key in {name, field.alias} - {None}:
            if key in out:
                value = out[key]
                out[key] = _apply(value, spec, fn) if spec else _map_value(field.annotation, value, fn)
    return out


def _map_value(tp: Any, value: Any, fn: PathFn) -> Any:
    """`value` of type `tp` with `fn` applied to the declared paths inside it."""
    origin = get_origin(tp)
    if origin is Annotated:
        spec = next((m for m in get_args(tp)[1:] if isinstance(m, PathField)), None)
        return _apply(value, spec, fn) if spec else _map_value(get_args(tp)[0], value, fn)
    if origin in (Union, types.UnionType):
        for arg in get_args(tp):
            mapped = _map_value(arg, value, fn)
            if mapped is not value:
                return mapped
        return value
    if origin in (list, tuple) and isinstance(value, (list, tuple)):
        args = [a for a in get_args(tp) if a is not Ellipsis]
        if len(args) == 1 and _has_paths(args[0]):
            return [_map_value(args[0], v, fn) for v in value]
        return value
    if origin is dict and isinstance(value, dict) and len(get_args(tp)) == 2 and _has_paths(get_args(tp)[1]):
        return {k: _map_value(get_args(tp)[1], v, fn) for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(value, dict):
        return _map_model(tp, value, fn)
    return value


def _has_paths(tp: Any) -> bool:
    """Whether values of type `tp` can hold a declared path (skips walking lists of plain values)."""
    if get_origin(tp) is Annotated:
        return any(isinstance(m, PathField) for m in get_args(tp)[1:]) or _has_paths(get_args(tp)[0])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return True
    return any(_has_paths(a) for a in get_args(tp))


def _apply(value: Any, spec: PathField, fn: PathFn) -> Any:
    if isinstance(value, str):
        return fn(value, spec)
    if isinstance(value, (list, tuple)):
        return [fn(v, spec) if isinstance(v, str) else v for v in value]
    return value


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping; a missing file or bad YAML is a one-line ConfigError."""
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"config file {p} does not exist", "check the path")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or "invalid YAML"
        raise ConfigError(f"{p}{where}: {problem}", "fix the YAML syntax") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p} is not UTF-8 text", "save the config as UTF-8") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p} must hold a mapping of keys, not a {type(data).__name__}")
    return data


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`["train.lr=1e-4", "seed=3"]` -> nested dict."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override '{item}' is not KEY=VALUE", "write it like train.lr=1e-4")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"override '{item}' has an empty key")
        try:
            value = yaml.safe_load(raw) if raw != "" else ""
        except yaml.YAMLError:
            value = raw
        set_dotted(out, key, value)
    return out


def set_dotted(d: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    for part in parts[:-1]:
        nxt = d.setdefault(part, {})
        if not isinstance(nxt, dict):
            nxt = {}
            d[part] = nxt
        d = nxt
    d[parts[-1]] = value


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _fields_at(model: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """Valid field names of the (nested) model reached by `path`, for suggestions."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann = fields[part].annotation
        inner = [a for a in getattr(ann, "__args__", ()) if isinstance(a, type) and issubclass(a, BaseModel)]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            current = ann
        elif inner:
            current = inner[0]
        else:
            return []
    return list(getattr(current, "model_fields", {}).keys())


def format_validation_error(model: type[BaseModel], err: ValidationError, source: str) -> str:
    """The first problem of a ValidationError as one line with a suggestion."""
    first = err.errors()[0]
    loc = tuple(first["loc"])
    dotted = ".".join(str(p) for p in loc)
    if first["type"] == "extra_forbidden":
        valid = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.4)
        prefix = ".".join(str(p) for p in loc[:-1])
        hint = f"did you mean '{prefix + '.' if prefix else ''}{close[0]}'?" if close else (
            f"valid keys here: {', '.join(valid)}" if valid else "remove it")
        more = f" (+{len(err.errors()) - 1} more problems)" if len(err.errors()) > 1 else ""
        return f"{source}: unknown key '{dotted}'; {hint}{more}"
    more = f" (+{len(err.errors()) - 1} more problems)" if len(err.errors()) > 1 else ""
    return f"{source}: '{dotted}': {first['msg']} (got {first.get('input')!r}){more}"


def build_config(model: type[M], data: dict[str, Any], source: str = "config", base: str | Path | None = None) -> M:
    """Validate `data` as `model`. With `base`, declared paths resolve against that folder, which becomes
    the config's `root`; without, they stay as given (relative to the current folder)."""
    if base is not None:
        data = resolve_paths(model, data, base)
    try:
        cfg = model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(model, e, source)) from None
    if base is not None and isinstance(cfg, StageConfig):
        cfg._root = Path(os.path.abspath(base))
    return cfg


def config_data(model: type[BaseModel], path: str | Path | None = None,
                overrides: list[str] | None = None) -> dict[str, Any]:
    """The raw data of an optional YAML file plus dotted overrides, each one's declared paths resolved
    against where it was written: the file's folder, and the current folder for the overrides."""
    data = resolve_paths(model, read_yaml(path), Path(path).parent) if path else {}
    if overrides:
        data = deep_merge(data, resolve_paths(model, parse_overrides(overrides), Path.cwd()))
    return data


def load_config(model: type[C], path: str | Path | None = None, overrides: list[str] | None = None) -> C:
    """Load `model` from an optional YAML file plus dotted overrides; paths as `config_data` says, and the
    config's root is the file's folder (the current folder without a file)."""
    return build_config(model, config_data(model, path, overrides), source=str(path) if path else "overrides",
                        base=Path(path).parent if path else Path.cwd())


def dump_config(cfg: BaseModel) -> dict[str, Any]:
    """The config as JSON data, declared paths below its root written relative to it (manifests, run keys)."""
    root = _root(cfg)
    return _map_model(type(cfg), cfg.model_dump(mode="json"), lambda v, spec: _portable(v, root, spec))  # type: ignore[no-any-return]


def _portable(value: str, root: Path, spec: PathField) -> str:
    if not value or spec.or_name and not os.path.isabs(value):
        return value
    return portable_path(value, root)
