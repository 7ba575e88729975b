"""URL and e-mail normalization: one spelling per address, tracking parameters removed.

`mode="normalize"` lowercases scheme, host and e-mail addresses, drops default ports and tracking
parameters (utm_*, fbclid, gclid, spm, ...); `mode="remove"` deletes URLs entirely (useful for
pretraining text where links are noise); `mode="tag"` replaces them with `[URL]`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from luban.data.ops.base import Mapper

URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'，。！？、（）【】]+", re.IGNORECASE)
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|msclkid|spm|from|share_token|mc_[ce]id|_hs\w+)$")
DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}


def normalize_url(url: str) -> str:
    trail = ""
    while url and url[-1] in ".,;:!?)":
        trail, url = url[-1] + trail, url[:-1]
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url + trail
    scheme = parts.scheme.lower()
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING.match(k)])
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, parts.fragment)) + trail


class NormalizeLinks(Mapper):
    name = "normalize_links"

    def __init__(self, mode: str = "normalize", emails: bool = True) -> None:
        super().__init__()
        if mode not in ("normalize", "remove", "tag"):
            raise ValueError(f"mode must be normalize, remove or tag, got '{mode}'")
        self.mode = mode
        self.emails = emails

    def map(self, text: str) -> str:
        if "://" in text:
            if self.mode == "normalize":
                text = URL.sub(lambda m: normalize_url(m.group(0)), text)
            else:
                text = URL.sub("" if self.mode == "remove" else "[URL]", text)
        if self.emails and "@" in text:
            text = EMAIL.sub(lambda m: m.group(0).lower(), text)
        return text
