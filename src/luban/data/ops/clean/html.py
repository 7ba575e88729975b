"""HTML and boilerplate stripping for text fields that hold markup or page furniture."""

from __future__ import annotations

import re

from luban.data.ops.base import Mapper
from luban.data.readers.html import html_to_text

_MARKUP = re.compile(r"</?(?:html|body|div|p|br|span|a|table|tr|td|li|ul|ol|h[1-6]|script|style|img)\b[^>]*>",
                     re.IGNORECASE)
# Short lines that are page furniture, not content (C4's policy lines, Chinese site footers).
_BOILERPLATE = re.compile(
    r"(cookie|privacy policy|terms of (use|service)|all rights reserved|javascript|skip to (main )?content|"
    r"subscribe to our newsletter|share on (facebook|twitter)|版权所有|隐私政策|用户协议|icp备|京公网安备|"
    r"免责声明|扫码关注|点击(这里|此处)|上一篇|下一篇|返回顶部)", re.IGNORECASE)


class StripHTML(Mapper):
    """Markup -> its readable text (same extraction as the HTML reader); then drop short boilerplate lines.

    max_boilerplate_chars: only lines up to this length are candidates, so an article that
    mentions "cookies" in a long paragraph keeps it.
    """

    name = "strip_html"

    def __init__(self, drop_boilerplate_lines: bool = True, max_boilerplate_chars: int = 80) -> None:
        super().__init__()
        self.drop_lines = drop_boilerplate_lines
        self.max_chars = max_boilerplate_chars

    def map(self, text: str) -> str:
        if "<" in text and _MARKUP.search(text):
            text = html_to_text(text)
        if self.drop_lines and _BOILERPLATE.search(text):
            text = "\n".join(line for line in text.split("\n")
                             if len(line) > self.max_chars or not _BOILERPLATE.search(line))
        return text
