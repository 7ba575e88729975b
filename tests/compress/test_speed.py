"""Speed of a variant, in a child process: the same greedy work for every format, figures that make sense."""

from __future__ import annotations

from pathlib import Path

import pytest

from luban.compress.speed import measure
from luban.core.errors import LubanError


def test_measures_a_transformers_model_in_a_child_process(tiny_model_dir: Path) -> None:
    m = measure(tiny_model_dir, new_tokens=4, runs=1)
    assert m["tokens_per_s"] > 0 and m["ttft_ms"] > 0 and m["load_s"] > 0
    assert 50 < m["peak_rss_mb"] < 8000 and m["prompt_tokens"] > 5


def test_a_failing_child_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(LubanError, match="speed measurement of .* failed"):
        measure(tmp_path, new_tokens=2, runs=1)
