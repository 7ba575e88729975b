"""`luban serve` with memory diagnostics on signals, for finding what a long soak keeps.

    bench/serve_memtrace.py --out /tmp/memtrace -- serve MODEL --name soak --port 8000
    .venv/bin/python bench/serve_soak.py --systems luban --luban-cmd ".venv/bin/python bench/serve_memtrace.py" ...
    kill -USR2 <pid>    # 1st: start tracemalloc (only what is allocated from now on is traced) + object counts
    kill -USR2 <pid>    # later: a tracemalloc snapshot + object counts per type, into --out
    kill -USR1 <pid>    # glibc malloc_trim(0), RSS before and after written to --out/log.txt

Compare two snapshots:  bench/serve_memtrace.py --compare OUT/snap-2.pickle OUT/snap-3.pickle

Start tracing after the warm-up (or after the request count where growth begins): traced from the start,
every import is counted and the server runs several times slower. Environment: MEMTRACE_OUT (default
/tmp/memtrace), MEMTRACE_FRAMES (traceback depth, default 6).
"""

from __future__ import annotations

import collections
import gc
import os
import signal
import sys
import time
import tracemalloc
from pathlib import Path

OUT = Path(os.environ.get("MEMTRACE_OUT", "/tmp/memtrace"))
FRAMES = int(os.environ.get("MEMTRACE_FRAMES", "6"))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def note(text: str) -> None:
    with (OUT / "log.txt").open("a") as f:
        f.write(f"{time.strftime('%H:%M:%S')} {text}\n")


def dump(_signum: int, _frame: object) -> None:
    if not tracemalloc.is_tracing():
        tracemalloc.start(FRAMES)
    n = len(list(OUT.glob("types-*.txt"))) + 1
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    lines = [f"rss {rss_mb():.1f} MB, {sum(counts.values())} objects"]
    lines += [f"{v:9d} {k}" for k, v in counts.most_common(100)]
    (OUT / f"types-{n}.txt").write_text("\n".join(lines) + "\n")
    tracemalloc.take_snapshot().dump(str(OUT / f"snap-{n}.pickle"))
    note(f"dump {n}: rss {rss_mb():.1f} MB, traced {tracemalloc.get_traced_memory()[0] / 1e6:.1f} MB")


def trim(_signum: int, _frame: object) -> None:
    from luban.serve.memtrim import trim as malloc_trim

    before = rss_mb()
    malloc_trim()
    note(f"malloc_trim: rss {before:.1f} -> {rss_mb():.1f} MB")


def compare(a: str, b: str, top: int = 20) -> None:
    old, new = tracemalloc.Snapshot.load(a), tracemalloc.Snapshot.load(b)
    for st in new.compare_to(old, "traceback")[:top]:
        print(f"{st.size_diff / 1e6:+8.2f} MB {st.count_diff:+9d} blocks (now {st.size / 1e6:.2f} MB)")
        for line in st.traceback.format()[-8:]:
            print("    " + line)


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--compare"] and len(args) == 3:
        compare(args[1], args[2])
        return 0
    if args[:1] == ["--out"] and len(args) >= 2:
        global OUT
        OUT, args = Path(args[1]), args[2:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGUSR2, dump)
    signal.signal(signal.SIGUSR1, trim)
    from luban.cli.main import main as luban

    sys.argv = ["luban", *args]
    note(f"pid {os.getpid()}: luban {' '.join(args)}")
    luban()
    return 0


if __name__ == "__main__":
    sys.exit(main())
