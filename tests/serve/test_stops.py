"""Stop strings cut streamed text at the first match, even when split across tokens."""

from luban.serve.stops import StopMatcher


def _run(pieces: list[str], stops: list[str]) -> tuple[str, bool]:
    m, out = StopMatcher(stops), ""
    for p in pieces:
        text, hit = m.feed(p)
        out += text
        if hit:
            return out, True
    return out + m.flush(), False


def test_stop_split_over_pieces_is_cut_and_not_returned() -> None:
    assert _run(["Hello ", "#", "## rest"], ["###"]) == ("Hello ", True)


def test_a_false_start_is_released() -> None:
    assert _run(["a#", "#b", "c"], ["###"]) == ("a##bc", False)


def test_earliest_of_several_stops_wins() -> None:
    assert _run(["one two three"], ["three", "two"]) == ("one ", True)


def test_no_stops_passes_through() -> None:
    assert _run(["x", "y"], []) == ("xy", False)
