"""Traditional <-> simplified Chinese conversion with OpenCC (loaded lazily; optional extra `zh`)."""

from __future__ import annotations

import re
from typing import Any

from luban.core.errors import UsageError
from luban.data.ops.base import Mapper

_HAN = re.compile(r"[\u3400-\u9fff]")
CONVERSIONS = ("t2s", "s2t", "tw2s", "s2tw", "hk2s", "s2hk", "t2tw", "tw2sp", "s2twp")


def load_opencc(conversion: str) -> Any:
    try:
        import opencc
    except ImportError:
        raise UsageError("the 'opencc' operator needs OpenCC",
                         "pip install 'luban[zh]' (opencc-python-reimplemented)") from None
    try:
        return opencc.OpenCC(conversion)
    except Exception:  # the official wheel names its configs "t2s.json"  # noqa: BLE001
        return opencc.OpenCC(f"{conversion}.json")


class OpenCC(Mapper):
    """Convert Chinese script: `t2s` (traditional -> simplified, default), `s2t`, `tw2s`, `s2tw`, ..."""

    name = "opencc"

    def __init__(self, conversion: str = "t2s") -> None:
        super().__init__()
        if conversion not in CONVERSIONS:
            raise ValueError(f"conversion must be one of {', '.join(CONVERSIONS)}, got '{conversion}'")
        self._cc = load_opencc(conversion)

    def map(self, text: str) -> str:
        if not _HAN.search(text):
            return text
        return str(self._cc.convert(text))
