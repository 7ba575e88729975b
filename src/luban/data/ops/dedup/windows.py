"""64-bit hashes of every k-character window of a batch of texts, and the windows that repeat.

Design choices:
- a window is `k` consecutive Unicode code points of one document (Python string indexing); windows
  never cross documents;
- the hash is a polynomial rolling hash mod 2^64 over code points first scrambled with splitmix64,
  computed for a whole batch at once with numpy prefix sums (no per-document Python work): with
  P[i] = sum_{j<i} x_j * B^-j, the window at p hashes to (P[p+k] - P[p]) * B^(p+k-1), which does
  not depend on p, on the batch or on the process, so workers and the driver agree;
- repeats are found by sorting hashes, one slice of the hash space at a time so that the work area
  stays bounded; a collision can only make the caller compare texts that differ, and the caller
  verifies every match against the text itself.
"""

from __future__ import annotations

import numpy as np

_B = 0x9E3779B97F4A7C15  # odd, so it has an inverse mod 2^64
_B_INV = pow(_B, -1, 1 << 64)
PART = 1 << 22  # windows sorted at a time in `repeats` (about 200 MB of work area)


def _splitmix64(codes: np.ndarray) -> np.ndarray:
    x = codes.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))  # type: ignore[no-any-return]


def _powers(base: int, n: int) -> np.ndarray:
    out = np.empty(n, dtype=np.uint64)
    out[0] = 1
    if n > 1:
        np.cumprod(np.full(n - 1, base, dtype=np.uint64), out=out[1:])
    return out


def window_counts(lengths: np.ndarray, k: int) -> np.ndarray:
    return np.maximum(lengths - k + 1, 0)


def window_hashes(texts: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """(uint64 hash of every k-window, int64 offsets of len(texts)+1): text i's windows, in order of
    position, are hashes[offsets[i]:offsets[i+1]]; a text shorter than k has none."""
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    counts = window_counts(lens, k)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    if offsets[-1] == 0:
        return np.empty(0, dtype=np.uint64), offsets
    # only texts with windows take part; surrogatepass keeps one code unit per character
    codes = np.frombuffer("".join(t for t, c in zip(texts, counts) if c).encode("utf-32-le", "surrogatepass"),
                          dtype=np.uint32)
    with np.errstate(over="ignore"):
        x = _splitmix64(codes)
        prefix = np.zeros(len(x) + 1, dtype=np.uint64)
        np.cumsum(x * _powers(_B_INV, len(x)), out=prefix[1:])
        del x
        lens_used = lens[counts > 0]
        char_start = np.cumsum(lens_used) - lens_used
        used = counts[counts > 0]
        starts = np.arange(offsets[-1], dtype=np.int64) + np.repeat(char_start - (np.cumsum(used) - used), used)
        h = (prefix[starts + k] - prefix[starts]) * _powers(_B, len(codes))[starts + k - 1]
    return h, offsets


def repeats(hashes: np.ndarray, offsets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows that repeat an earlier one: (w, e), sorted by w, where window e is the earliest window
    with the same hash and either lies in an earlier text or ends before w starts in the same text.

    Window ids are positions in `hashes` (corpus order). The work area is bounded by PART windows, the
    slice labels cost 2 bytes per window and the result 16 bytes per repeated window.
    """
    n = len(hashes)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    bits = min(16, max(0, int(np.ceil(np.log2(max(1, n / PART))))))
    top = (hashes >> np.uint64(64 - bits)).astype(np.uint16) if bits else None
    ws: list[np.ndarray] = []
    es: list[np.ndarray] = []
    for part in range(1 << bits):  # one slice of the hash space at a time
        ids = np.arange(n, dtype=np.int64) if top is None else np.flatnonzero(top == part)
        hp = hashes[ids]
        # most windows are unique: find the repeated values with a plain sort, then order only those
        hs = np.sort(hp)
        twice = np.unique(hs[1:][hs[1:] == hs[:-1]])
        del hs
        if not len(twice):
            continue
        # a bitmap of their low bits keeps every repeated window and a few others, which stay alone
        # in their group below (much faster than searchsorted's random probes)
        mask = np.uint64((1 << min(28, max(10, int(np.log2(len(twice))) + 4))) - 1)
        marked = np.zeros(int(mask) + 1, dtype=bool)
        marked[twice & mask] = True
        mine = marked[hp & mask]
        del marked
        ids, hp = ids[mine], hp[mine]
        order = np.argsort(hp, kind="stable")  # ids ascend within a run of equal hashes
        ids, hp = ids[order], hp[order]
        first = np.ones(len(ids), dtype=bool)
        first[1:] = hp[1:] != hp[:-1]
        group_start = np.flatnonzero(first)
        earliest = np.repeat(ids[group_start], np.diff(np.append(group_start, len(ids))))
        ws.append(ids[~first])
        es.append(earliest[~first])
    if not ws:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    w, e = np.concatenate(ws), np.concatenate(es)
    order = np.argsort(w)
    w, e = w[order], e[order]
    # in the same text, the earlier copy must end before this one starts: periodic text keeps one period
    same_text = np.searchsorted(offsets, w, side="right") == np.searchsorted(offsets, e, side="right")
    keep = ~same_text | (w - e >= k)
    return w[keep], e[keep]
