"""The one typed registry: names and "module:Attr" to classes, with did-you-mean errors."""

from __future__ import annotations

from collections import OrderedDict as Impl

import pytest

from luban.core.errors import ConfigError
from luban.core.registry import Registry

Base = dict  # registered entries below are real importable classes: collections:OrderedDict is a dict


def test_lazy_entry_is_imported_on_first_get_and_cached():
    reg: Registry[type[dict]] = Registry("widget", {"impl": "collections:OrderedDict"}, base=Base)
    assert reg.get("impl") is Impl
    assert reg.get("impl") is Impl
    assert "impl" in reg and reg.names() == ["impl"]


def test_unknown_name_suggests_the_closest():
    reg: Registry[type[dict]] = Registry("widget", {"minhash_dedup": Impl, "exact_dedup": Impl})
    with pytest.raises(ConfigError, match="unknown widget 'minhash_dedupe'.*did you mean 'minhash_dedup'"):
        reg.get("minhash_dedupe")


def test_unknown_name_without_a_close_one_lists_the_known():
    reg: Registry[type[dict]] = Registry("widget", {"a": Impl})
    with pytest.raises(ConfigError, match="known: a"):
        reg.get("zzzz")


def test_module_attr_that_is_not_registered_is_accepted():
    reg: Registry[type[dict]] = Registry("widget", {}, base=Base)
    assert reg.get("collections:OrderedDict") is Impl


@pytest.mark.parametrize(("target", "message"), [
    ("no_such_module_xyz:Thing", "cannot import module 'no_such_module_xyz'"),
    ("collections:Nope", "has no attribute 'Nope'"),
    ("collections:", "must be a registered name or 'module:Attr'"),
])
def test_bad_targets_are_one_line_config_errors(target, message):
    reg: Registry[type[dict]] = Registry("widget", {"bad": target})
    with pytest.raises(ConfigError, match=message):
        reg.get("bad")


def test_entry_of_the_wrong_type_is_refused():
    reg: Registry[type[dict]] = Registry("widget", {"str": "builtins:str"}, base=Base)
    with pytest.raises(ConfigError, match="not a dict"):
        reg.get("str")


def test_register_replaces_and_forgets_the_cached_object():
    class Other(Base):
        pass

    reg: Registry[type[dict]] = Registry("widget", {"x": Impl}, base=Base)
    assert reg.get("x") is Impl
    reg.register("x", Other)
    assert reg.get("x") is Other


def test_a_registry_may_raise_its_own_error_class():
    from luban.core.errors import NotFoundError

    reg: Registry[type[dict]] = Registry("stage", {"data.curate": Impl}, error=NotFoundError)
    with pytest.raises(NotFoundError, match="unknown stage 'data.curat'.*did you mean 'data.curate'"):
        reg.get("data.curat")


def test_checked_is_a_value_error_for_pydantic_validators():
    reg: Registry[type[dict]] = Registry("executor", {"local": Impl, "ray": Impl})
    assert reg.checked("ray") == "ray" and reg.checked("my.pkg:Exec") == "my.pkg:Exec"
    with pytest.raises(ValueError, match="unknown executor 'rey'.*did you mean 'ray'"):
        reg.checked("rey")


def test_a_protocol_with_data_members_is_checked_by_its_methods():
    from typing import Protocol

    class Plugin(Protocol):
        name: str

        def run(self) -> None: ...

    class Good:
        name = "good"

        def run(self) -> None:
            pass

    class Bad:
        name = "bad"

    reg: Registry[type] = Registry("plugin", {"good": Good, "bad": Bad}, base=Plugin)
    assert reg.get("good") is Good
    with pytest.raises(ConfigError, match="plugin 'bad' is .*not a Plugin"):
        reg.get("bad")
