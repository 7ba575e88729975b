"""The catalog is plain data; derived parameter counts must match each model's published size."""

from __future__ import annotations

import pytest

from luban.core.errors import NotFoundError
from luban.models.advisor import dims_from_card
from luban.models.catalog import CARDS, CATALOG, find_card

# Published sizes (billions) from the model cards on the Hugging Face Hub.
PUBLISHED = {"qwen2.5-0.5b": 0.49, "qwen2.5-7b": 7.61, "qwen2.5-72b": 72.7, "qwen3-8b": 8.2, "qwen3-32b": 32.8,
             "llama3.2-1b": 1.24, "llama3.1-8b": 8.03, "llama3.3-70b": 70.6, "mistral-7b": 7.25,
             "glm4-9b": 9.4, "baichuan2-13b": 13.9, "yi1.5-34b": 34.4, "internlm2.5-7b": 7.74}


@pytest.mark.parametrize("key", sorted(PUBLISHED))
def test_dimensions_reproduce_the_published_parameter_count(key: str) -> None:
    params = dims_from_card(CATALOG[key]).params / 1e9
    assert params == pytest.approx(PUBLISHED[key], rel=0.02)


def test_every_family_the_issue_names_is_there_with_licence_languages_and_context() -> None:
    fams = {c.family.split("-")[0].rstrip("0123456789.") for c in CARDS}
    assert {"qwen", "llama", "mistral", "glm", "baichuan", "deepseek", "yi", "internlm"} <= fams
    assert all(c.licence and c.languages and c.context >= 4096 and c.template for c in CARDS)
    assert len(CATALOG) == len(CARDS)  # keys are unique


def test_lookup_by_family_and_size_or_key_and_helpful_misses() -> None:
    assert find_card("Qwen2.5", "7B") is find_card("qwen2.5-7b")
    with pytest.raises(NotFoundError, match="known sizes"):
        find_card("qwen2.5", "5b")
    with pytest.raises(NotFoundError, match="did you mean 'qwen3-8b'"):
        find_card("qwen3-8")
