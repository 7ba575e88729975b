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
