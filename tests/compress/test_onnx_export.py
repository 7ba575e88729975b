"""export_onnx: a self-contained directory whose graph reproduces transformers' logits with a KV cache."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.needs("onnxruntime", "pip install 'luban[onnx]'")


@pytest.fixture(scope="session")
def tiny_onnx_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from luban.compress.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("tiny-onnx")
    export_onnx(tiny_model_dir, out)
    return out


def test_export_writes_graph_and_tokenizer(tiny_onnx_dir: Path) -> None:
    for name in ("model.onnx", "config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        assert (tiny_onnx_dir / name).is_file(), name


def test_graph_with_cache_matches_transformers(tiny_model_dir: Path, tiny_onnx_dir: Path) -> None:
    """Prefill 6 tokens, then decode 3 one at a time through the cache; logits equal a full forward."""
    import numpy as np
    import onnxruntime as ort
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    ids = [5, 17, 42, 8, 99, 3, 61, 7, 250]
    with torch.no_grad():
        want = model(torch.tensor([ids])).logits[0].numpy()
    sess = ort.InferenceSession(str(tiny_onnx_dir / "model.onnx"))
    past_inputs = [i for i in sess.get_inputs() if i.name.startswith("past_key_values.")]
    past = [np.zeros((1, i.shape[1], 0, i.shape[3]), np.float32) for i in past_inputs]
    got, pos = [], 0
    for chunk in (ids[:6], ids[6:7], ids[7:8], ids[8:9]):
        feed = {"input_ids": np.array([chunk]), "attention_mask": np.ones((1, pos + len(chunk)), np.int64),
                "position_ids": np.arange(pos, pos + len(chunk))[None]}
        feed.update({i.name: p for i, p in zip(past_inputs, past)})
        logits, *past = sess.run(None, feed)
        got.append(logits[0])
        pos += len(chunk)
    np.testing.assert_allclose(np.concatenate(got), want, atol=1e-4)


def test_onnx_stage_records_lineage(ws, tiny_model_dir: Path) -> None:
    from luban.compress.onnx_export import OnnxExportConfig, onnx_stage
    from luban.models.loading import ImportConfig, import_stage

    base = import_stage(ImportConfig(path=str(tiny_model_dir)), ws, {}, "tiny")
    art = onnx_stage(OnnxExportConfig(), ws, {"model": base}, "tiny-onnx")
    assert (art.path / "model.onnx").is_file()
    assert art.manifest.producer.stage == "compress.onnx"
    assert [p.id for p in art.manifest.parents] == [base.id]
