"""Streaming output moderation with a carry-over window: nothing reaches the client before it is checked.

Each chunk is appended to the answer so far; the policy's streaming scanners (lexicon, regex, PII,
secrets: the local ones) scan a window made of the last `hold` characters already released plus everything
not yet released. All but the last `hold` characters are then released. A scan runs once `batch` new characters have come
in beyond the held ones (default 16), so at most `hold + batch` characters are held at any time and a
stream of one-token chunks is scanned every few chunks, not on each. A phrase of up to `hold + 1`
characters split across chunks at any position is therefore whole inside some window before its first
character could be released: when its last character arrives, its first is still held. Longer phrases
(or phrases stretched by obfuscation beyond that) are still caught, but part may have gone out.

- `block`: the stream ends; nothing of the held text is sent; `Blocked` carries the refusal, and the
  caller ends the answer with it and `finish_reason: "content_filter"`.
- `mask`: the span is replaced in the held text before it is released.
- An ASCII term that ends exactly where the text so far ends is not judged yet ("ass" may become
  "assistant"); the next chunk or the end of the stream decides.
- `finish()` scans what is left (and, for a non-streamed answer, runs the remote scanners on the whole).

Cost: one scan of about `2 * hold + batch` characters per `batch` characters, whatever the answer's length.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from luban.guard.policy import Policy
from luban.guard.verdict import Decision, Verdict, apply_masks


class Blocked(Exception):  # noqa: N818 - a decision, not a fault
    """The stream must end here; `refusal` is what the client gets instead of the held text."""

    def __init__(self, refusal: str, decision: Decision) -> None:
        super().__init__(refusal)
        self.refusal = refusal
        self.decision = decision


@dataclass
class StreamModerator:
    policy: Policy
    lang: str = "en"
    hold: int | None = None
    batch: int | None = None
    text: str = ""  # the answer so far, after masks
    released: int = 0  # how many characters of `text` went to the client
    verdicts: list[Verdict] = field(default_factory=list)
    done: bool = False

    def __post_init__(self) -> None:
        if self.hold is None:
            self.hold = self.policy.spec.stream.hold_chars
        if self.batch is None:
            self.batch = self.policy.spec.stream.batch_chars

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the text that may go to the client now. Raises `Blocked`."""
        if self.done:
            return ""
        self.text += chunk
        assert self.hold is not None and self.batch is not None
        if len(self.text) - self.released < self.hold + self.batch:
            return ""  # nothing could be released yet without a scan: wait for more
        self._check(final=False)
        upto = max(self.released, len(self.text) - self.hold)
        out = self.text[self.released:upto]
        self.released = upto
        return out

    def finish(self, whole: bool = False) -> str:
        """The end of the answer: scan and release what is held. `whole`: also run the scanners that do not
        stream (an LLM judge, remote moderation) over the whole answer, for a non-streamed response."""
        if self.done:
            return ""
        self._check(final=True)
        if whole and any(not s.streaming for s in self.policy.output):
            d = self.policy.scan(self.text, stage="output", lang=self.lang)
            self._record(d.verdicts, 0)
            if d.blocked:
                self.done = True
                raise Blocked(d.refusal or "", d)
        out = self.text[self.released:]
        self.released = len(self.text)
        self.done = True
        return out

    def _check(self, final: bool) -> None:
        assert self.hold is not None
        start = max(0, self.released - self.hold)
        floor = max(0, start - 32)  # never cut a word in two at the window's start ("class" -> "ass")
        while start > floor and self.text[start - 1].isascii() and self.text[start - 1].isalnum():
            start -= 1
        window = self.text[start:]
        if not window:
            return
        d = self.policy.scan(window, stage="output", lang=self.lang, streaming_only=True)
        if d.action == "allow":
            return
        n = len(window)
        open_end = not final and window[-1].isascii() and window[-1].isalnum()
        verdicts = [v for v in d.verdicts if not (open_end and any(e == n for _, e in v.spans))]
        blocking = [v for v in verdicts if v.action == "block"]
        if blocking:
            self._record(verdicts, start)
            self.done = True
            raise Blocked(self.policy.refusal(self.lang, blocking[0].category), d)
        held = self.released - start  # what the client already has is never rewritten
        masks = [f for f in d.masks if not (open_end and f.end == n) and f.end > held]
        if masks:
            clipped = [replace(f, start=max(f.start, held)) for f in masks]
            self.text = self.text[:start] + apply_masks(window, clipped)
        self._record(verdicts, start)

    def _record(self, verdicts: list[Verdict], offset: int) -> None:
        for v in verdicts:
            if v.action == "allow":
                continue
            spans = [(s + offset, e + offset) for s, e in v.spans]
            if any(x.scanner == v.scanner and x.spans == spans for x in self.verdicts):
                continue
            self.verdicts.append(Verdict(v.action, v.scanner, v.category, v.reason, spans, "output", v.score))
