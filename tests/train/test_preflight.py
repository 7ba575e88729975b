"""Bad input stops with one clear line before any training step (issue 4, "Bad input")."""

from __future__ import annotations

import shutil
import sys

import pytest
import torch
from train_fixtures import chat_rows, make_dataset

from luban.core.errors import UsageError
from luban.train import preflight
from luban.train.sft import SFTConfig, sft

# Handles user and assistant only: a system or tool turn vanishes from the prompt.
USER_ASSISTANT_ONLY = ("{%- for m in messages -%}{%- if m['role'] == 'user' -%}{{ '<|im_start|>user\\n' + "
                       "m['content'] + '<|im_end|>\\n' }}{%- elif m['role'] == 'assistant' -%}"
                       "{{ '<|im_start|>assistant\\n' }}{% generation %}{{ m['content'] + '<|im_end|>' }}"
                       "{% endgeneration %}{{ '\\n' }}{%- endif -%}{%- endfor -%}")
RAISES_ON_TOOL = ("{%- for m in messages -%}{%- if m['role'] not in ['user', 'assistant', 'system'] -%}"
                  "{{ raise_exception('Only user, assistant and system roles are supported!') }}{%- endif -%}"
                  "{%- endfor -%}")
NO_STOP = USER_ASSISTANT_ONLY.replace("m['content'] + '<|im_end|>' }}{% endgeneration %}",
                                      "m['content'] }}{% endgeneration %}{{ '<|im_end|>' }}")


def _cfg(**train: object) -> SFTConfig:
    return SFTConfig(train={"max_steps": 1, "batch_size": 2, "max_seq_length": 128, **train})


def test_template_that_drops_a_role_the_data_uses(ws, base, chat_data, tmp_path):
    tpl = tmp_path / "ua.jinja"
    tpl.write_text(USER_ASSISTANT_ONLY)
    with pytest.raises(UsageError, match="drops role 'system' that the training data uses"):
        sft(SFTConfig(chat_template=str(tpl)), ws, {"model": base, "data": chat_data})


def test_template_that_raises_on_a_role(ws, base, tmp_path):
    rows = chat_rows(2, system=False) + [{"messages": [{"role": "user", "content": "weather?"},
                                         {"role": "tool", "content": "sunny"},
                                         {"role": "assistant", "content": "It is sunny."}]}]
    tpl = tmp_path / "strict.jinja"
    tpl.write_text(RAISES_ON_TOOL + USER_ASSISTANT_ONLY)
    with pytest.raises(UsageError, match="cannot render role 'tool'.*Only user, assistant and system"):
        sft(SFTConfig(chat_template=str(tpl)), ws, {"model": base, "data": make_dataset(ws, "tool", rows)})


def test_template_whose_assistant_turn_lacks_the_stop_token(ws, base, tmp_path):
    tpl = tmp_path / "nostop.jinja"
    tpl.write_text(NO_STOP)
    rows = chat_rows(4, system=False)
    with pytest.raises(UsageError, match="never contain a stop token .*would not learn to stop"):
        sft(SFTConfig(chat_template=str(tpl)), ws, {"model": base, "data": make_dataset(ws, "c2", rows)})


def test_samples_longer_than_max_seq_length(ws, base):
    rows = chat_rows(4) + [{"messages": [{"role": "user", "content": "tell me everything " * 200},
                                         {"role": "assistant", "content": "ok"}]}]
    with pytest.raises(UsageError, match=r"1 of 5 training samples are longer than train.max_seq_length=128 tokens "
                                         r"\(longest \d+; model context 512\).*train.truncate=true"):
        sft(_cfg(), ws, {"model": base, "data": make_dataset(ws, "long", rows)})


def test_max_seq_length_beyond_the_model_context(ws, base, chat_data):
    with pytest.raises(UsageError, match="max_seq_length=4096 is longer than the model's context \\(512\\)"):
        sft(_cfg(max_seq_length=4096), ws, {"model": base, "data": chat_data})


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on machines without CUDA")
def test_qlora_without_cuda(ws, base, chat_data):
    with pytest.raises(UsageError, match="needs a CUDA GPU.*use method: lora"):
        sft(SFTConfig(method="qlora"), ws, {"model": base, "data": chat_data})


def test_qlora_without_bitsandbytes_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # past the GPU check, to the library check
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # as if the qlora extra were not installed
    with pytest.raises(UsageError, match="bitsandbytes, which is not installed") as e:
        preflight.check_cuda_for("qlora")
    assert e.value.hint == "pip install 'luban[qlora]', or use method: lora"


def test_output_name_already_taken(ws, base):
    with pytest.raises(UsageError, match="an artifact named 'base' already exists.*--force"):
        preflight.check_output_name(ws, "base", force=False)
    preflight.check_output_name(ws, "base", force=True)
    preflight.check_output_name(ws, "new-name", force=False)


def test_base_model_without_weights(ws, base, chat_data, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(base.path, bare)
    for f in bare.glob("*.safetensors"):
        f.unlink()
    with ws.create("model", "bare", "test.fixture") as p:
        shutil.copytree(bare, p.path, dirs_exist_ok=True)
    assert p.result is not None
    with pytest.raises(UsageError, match="has no weights"):
        sft(_cfg(), ws, {"model": p.result, "data": chat_data})


def test_schema_mismatch_stops_the_recipe(ws, base):
    ds = make_dataset(ws, "alpaca", [{"instruction": "hi", "output": "hello"}])
    with pytest.raises(UsageError, match="needs 'messages'"):
        sft(_cfg(), ws, {"model": base, "data": ds})
