"""MinHash signatures of shingle sets, as one (documents x permutations) uint32 matrix.

Two backends, chosen by measurement (bench/data_dedup_memory.py and docs/benchmarks.md):
- `numpy`: multiply-shift hashing (h = (a*x + b) >> 32 with odd 64-bit a; Dietzfelbinger et al.
  1997) and `np.minimum.reduceat` per permutation; no per-document Python work at all;
- `rensa`: rensa's Rust digest matrix from the same flat hashes (fast to compute, but its rows
  come back as Python lists, which costs more than the hashing saved on this machine).
Both are deterministic for a given seed, in every process.
"""

from __future__ import annotations

import numpy as np

EMPTY = np.uint32(0xFFFFFFFF)


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, np.iinfo(np.uint64).max, num_perm, dtype=np.uint64, endpoint=True) | np.uint64(1)
    b = rng.integers(0, np.iinfo(np.uint64).max, num_perm, dtype=np.uint64, endpoint=True)
    return a, b


def minhash_numpy(flat: np.ndarray, offsets: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    n_docs = len(offsets) - 1
    sig = np.full((n_docs, num_perm), EMPTY, dtype=np.uint32)
    counts = np.diff(offsets)
    nonempty = np.flatnonzero(counts)
    if not len(flat):
        return sig
    a, b = permutations(num_perm, seed)
    starts = offsets[:-1][nonempty]
    tmp = np.empty(len(flat), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(num_perm):
            np.multiply(flat, a[k], out=tmp)
            np.add(tmp, b[k], out=tmp)
            np.right_shift(tmp, np.uint64(32), out=tmp)
            sig[nonempty, k] = np.minimum.reduceat(tmp, starts)
    return sig


def minhash_rensa(flat: np.ndarray, offsets: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    import rensa

    m = rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets.astype(np.uint64), num_perm, seed)
    sig = np.array(m.to_rows(), dtype=np.uint32).reshape(len(offsets) - 1, num_perm)
    sig[np.diff(offsets) == 0] = EMPTY
    return sig


BACKENDS = {"numpy": minhash_numpy, "rensa": minhash_rensa}
