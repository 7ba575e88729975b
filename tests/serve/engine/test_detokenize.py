"""Incremental detokenization never emits half a character and loses nothing."""

from pathlib import Path

from luban.serve.engine.detokenize import Detokenizer


def test_multibyte_text_round_trips_token_by_token(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = "X100扫地机器人的保修期为2年。 Returns 🙂 ok"
    d, out = Detokenizer(tok), []
    for t in tok(text, add_special_tokens=False).input_ids:
        out.append(d.add(t))
    out.append(d.flush())
    assert "".join(out) == text
    assert all("\ufffd" not in piece for piece in out)
