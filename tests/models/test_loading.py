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


def _adapter(folder, base_ref: str) -> None:
    import json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": base_ref}))


def test_adapter_base_follows_lineage_first_then_adapter_config(ws, tmp_path):
    from luban.core.artifact import artifact_parent
    from luban.models.loading import adapter_base

    with ws.create("model", "base", "test") as p:
        (p.path / "config.json").write_text("{}")
    base = p.result
    with ws.create("model", "other", "test") as p:
        (p.path / "config.json").write_text("{\"other\": 1}")
    other = p.result
    # lineage wins over a base_model_name_or_path that names another model
    with ws.create("model", "lora", "test", parents=[artifact_parent(base, "base")]) as p:
        _adapter(p.path, str(other.path))
    lora = p.result
    assert adapter_base(lora, ws) == (base.path, base)
    assert adapter_base(lora.path, ws) == (base.path, base)  # a path to an artifact reads its manifest
    # no workspace, or no lineage: adapter_config.json names a directory or an artifact
    assert adapter_base(lora.path) == (other.path, None)
    _adapter(tmp_path / "by-name", "other")
    assert adapter_base(tmp_path / "by-name", ws) == (other.path, other)


def test_adapter_base_errors_say_what_to_do(ws, tmp_path):
    from luban.models.loading import adapter_base

    _adapter(tmp_path / "lost", "/no/such/base")
    with pytest.raises(NotFoundError, match="base model of adapter .* is not available") as e:
        adapter_base(tmp_path / "lost", ws)
    assert "luban models import" in e.value.hint
    with pytest.raises(UsageError, match="is not a LoRA adapter"):
        adapter_base(tmp_path, ws)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "adapter_config.json").write_text("{not json")
    with pytest.raises(UsageError, match="cannot read"):
        adapter_base(tmp_path / "bad", ws)
