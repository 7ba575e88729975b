"""E-mail addresses (RFC 5322's common subset: local@domain.tld).

Not addresses, though shaped like them: image assets named for screen density (`icon@2x.png`,
`logo@3x.webp`), whose "top-level domain" is a file extension that no registry delegates, and SSH
remotes (`git@github.com:owner/repo.git`), where the `@` names a service account on a host.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from luban.guard.detectors.base import Match
from luban.guard.detectors.windows import Seed

PATTERN = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                     r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.([A-Za-z]{2,24})(?![A-Za-z0-9])")
# File extensions that are not delegated top-level domains (IANA root zone); `.py`, `.sh`, `.md`, `.zip` are.
FILE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "avif",
                             "heic", "css", "js", "mjs", "ts", "tsx", "jsx", "json", "yaml", "yml", "txt", "html",
                             "htm", "xml", "csv", "pdf", "lock", "whl", "gz", "tgz", "bz2", "xz", "mp3",
                             "mp4", "wav", "ogg", "webm", "woff", "woff2", "ttf", "otf", "eot", "map", "log"})


class Email:
    name = "email"
    priority = 50
    seed = Seed(re.compile("@"), token=True)

    def find(self, text: str, start: int = 0, end: int | None = None) -> Iterator[Match]:
        if "@" not in text:
            return
        for m in PATTERN.finditer(text, start, len(text) if end is None else end):
            if m.group(1).lower() in FILE_EXTENSIONS:
                continue
            if text.startswith(":", m.end()) and re.match(r":[\w~./-]", text[m.end():m.end() + 2]):
                continue  # git@host:owner/repo - an SSH remote
            yield Match(self.name, m.start(), m.end(), m.group(0))
