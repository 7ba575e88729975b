import shutil

import pytest

from luban.core.errors import NotFoundError, UsageError
from luban.models.loading import ImportConfig, check_model_dir, import_stage, resolve_model_dir


def test_missing_weights_and_tokenizer(tmp_path, tiny_model_dir):
    no_w = tmp_path / "no-weights"
    shutil.copytree(tiny_model_dir, no_w)
    (no_w / "model.safetensors").unlink()
    with pytest.raises(UsageError, match="has no weights"):
        check_model_dir(no_w)
    no_t = tmp_path / "no-tok"
    shutil.copytree(tiny_model_dir, no_t)
    for f in no_t.glob("tokenizer*"):
        f.unlink()
    with pytest.raises(UsageError, match="has no tokenizer"):
        check_model_dir(no_t)


def test_import_and_resolve(ws, tiny_model_dir):
    art = import_stage(ImportConfig(path=str(tiny_model_dir)), ws, {}, "base")
    assert resolve_model_dir("base", ws) == art.path
    assert (art.path / "model.safetensors").is_file()
    assert all(p.type == "file" and p.sha256 for p in art.manifest.parents)
    with pytest.raises(NotFoundError):
        resolve_model_dir("nothing-here", ws)


def test_serving_dtype_is_bf16_only_on_a_cpu_with_native_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from luban.models import loading

    assert loading.serving_dtype("float32", "cpu") == "float32"
    assert loading.serving_dtype("bfloat16", "cuda") == "bfloat16"
    assert loading.serving_dtype("auto", "cuda") == "auto"
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    assert loading.serving_dtype("auto", "cpu") == "auto"  # emulated bf16 is slower than float32
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True, raising=False)
    assert loading.serving_dtype("auto", "cpu") == "bfloat16"
