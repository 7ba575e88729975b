"""Stage configs: pydantic models loaded from YAML, with dotted overrides from the command line.

Design choices:
- one pydantic model per stage, `extra="forbid"` everywhere, so a typo is an error, not a silent default;
- the error names the bad key by its full dotted path and the closest valid key (difflib);
- overrides are `a.b.c=value`, the value parsed as YAML (`1e-4` -> float, `[1,2]` -> list, `true` -> bool).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from luban.core.errors import ConfigError, NotFoundError

C = TypeVar("C", bound="StageConfig")
M = TypeVar("M", bound=BaseModel)


class StageConfig(BaseModel):
    """Base of every stage config: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())


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


def build_config(model: type[M], data: dict[str, Any], source: str = "config") -> M:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_validation_error(model, e, source)) from None


def load_config(model: type[C], path: str | Path | None = None, overrides: list[str] | None = None) -> C:
    """Load `model` from an optional YAML file plus dotted overrides."""
    data = read_yaml(path) if path else {}
    if overrides:
        data = deep_merge(data, parse_overrides(overrides))
    return build_config(model, data, source=str(path) if path else "overrides")


def dump_config(cfg: BaseModel) -> dict[str, Any]:
    return cfg.model_dump(mode="json")
