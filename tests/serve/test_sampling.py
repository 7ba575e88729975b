"""Per-row sampling: greedy, seeds, top-k/top-p, penalties and log-probabilities."""

import torch

from luban.serve.backends.base import SamplingParams
from luban.serve.sampling import RowState, filter_top_k_top_p, make_generator, sample


def _row(**kw: object) -> RowState:
    p = SamplingParams(**kw)  # type: ignore[arg-type]
    return RowState(p, [], make_generator(p.seed))


def test_greedy_rows_take_the_argmax_and_hot_rows_sample() -> None:
    logits = torch.tensor([[0.0, 5.0, 1.0], [0.0, 5.0, 1.0]])
    out = sample(logits.clone(), [_row(temperature=0), _row(temperature=1.0, top_k=1)])
    assert out.tokens == [1, 1]


def test_same_seed_same_tokens_regardless_of_batch() -> None:
    logits = torch.randn(1, 50)
    a = [sample(logits.clone(), [r]).tokens[0] for r in [_row(seed=3)] for _ in range(1)]
    rows = [_row(seed=3)]
    b = sample(torch.cat([logits, torch.randn(2, 50)]), rows + [_row(seed=9), _row()]).tokens[0]
    assert a[0] == b


def test_top_p_keeps_the_nucleus() -> None:
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = filter_top_k_top_p(logits, torch.tensor([0]), torch.tensor([0.7]))
    assert torch.isfinite(kept).tolist() == [[True, True, False, False]]
    kept_k = filter_top_k_top_p(logits, torch.tensor([3]), torch.tensor([1.0]))
    assert torch.isfinite(kept_k).sum() == 3


def test_frequency_penalty_discourages_repeats() -> None:
    logits = torch.tensor([[2.0, 1.9]])
    r = _row(temperature=0, frequency_penalty=1.0)
    r.generated = [0]
    assert sample(logits.clone(), [r]).tokens == [1]


def test_logprobs_are_raw_and_sorted() -> None:
    logits = torch.tensor([[1.0, 3.0, 2.0]])
    out = sample(logits.clone(), [_row(temperature=0, logprobs=True, top_logprobs=2)])
    chosen, top = out.logprobs[0]
    assert abs(chosen - float(torch.log_softmax(logits, -1)[0, 1])) < 1e-6
    assert [t for t, _ in top] == [1, 2]


def test_tiny_temperature_is_greedy_not_nan() -> None:
    logits = torch.tensor([[0.0, 5.0, 1.0]])
    assert sample(logits.clone(), [_row(temperature=1e-300)]).tokens == [1]


def test_draw_follows_the_distribution_never_picks_zero_mass_and_repeats_with_a_seed() -> None:
    import torch

    from luban.serve.sampling import draw, make_generator

    probs = torch.tensor([[0.1, 0.0, 0.6, 0.3], [0.0, 0.0, 0.0, 1.0]])
    counts = torch.zeros(4)
    rows = probs[:1].expand(20_000, 4).contiguous()
    for t in draw(rows, [None] * rows.shape[0]):
        counts[t] += 1
    assert torch.allclose(counts / counts.sum(), probs[0], atol=0.015) and counts[1] == 0
    assert draw(probs[1:], [None]) == [3]
    g = make_generator(7)
    a = [draw(probs[:1], [g])[0] for _ in range(20)]
    g1, g2 = make_generator(7), make_generator(7)
    assert [draw(probs[:1], [g1])[0] for _ in range(20)] == [draw(probs[:1], [g2])[0] for _ in range(20)]
    assert len(set(a)) > 1  # a seeded generator still samples, it does not freeze on one token
