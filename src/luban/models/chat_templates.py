"""Chat templates as plain data: one Jinja file per template family, plus its special tokens.

The templates mark assistant turns with `{% generation %}` so that transformers can return the
assistant-token mask (`return_assistant_tokens_mask=True`) and training masks the loss to assistant
text only. The end-of-turn token is also the generation stop token.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from luban.core.errors import NotFoundError


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    file: str
    bos: str | None
    eos: str  # end of text
    end_of_turn: str  # stop token for chat generation
    pad: str
    specials: tuple[str, ...]


TEMPLATES: dict[str, TemplateSpec] = {
    "chatml": TemplateSpec("chatml", "chatml.jinja", None, "<|endoftext|>", "<|im_end|>", "<|endoftext|>",
                           ("<|endoftext|>", "<|im_start|>", "<|im_end|>")),
    "llama3": TemplateSpec("llama3", "llama3.jinja", "<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>",
                           "<|end_of_text|>", ("<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                                               "<|end_header_id|>", "<|eot_id|>")),
    # Catalog of the known open families (issue 4 item 2), each copied from the family's own tokenizer_config
    # with assistant turns marked by {% generation %} so the loss can be masked to assistant text.
    "qwen2_5": TemplateSpec("qwen2_5", "qwen2_5.jinja", None, "<|endoftext|>", "<|im_end|>", "<|endoftext|>",
                            ("<|endoftext|>", "<|im_start|>", "<|im_end|>")),
    "qwen3": TemplateSpec("qwen3", "qwen3.jinja", None, "<|endoftext|>", "<|im_end|>", "<|endoftext|>",
                          ("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>")),
    "mistral": TemplateSpec("mistral", "mistral.jinja", "<s>", "</s>", "</s>", "</s>",
                            ("<s>", "</s>", "[INST]", "[/INST]")),
    "glm4": TemplateSpec("glm4", "glm4.jinja", None, "<|endoftext|>", "<|user|>", "<|endoftext|>",
                         ("<|endoftext|>", "[gMASK]", "<sop>", "<|system|>", "<|user|>", "<|assistant|>",
                          "<|observation|>")),
    "baichuan2": TemplateSpec("baichuan2", "baichuan2.jinja", "<s>", "</s>", "</s>", "<unk>",
                              ("<s>", "</s>", "<reserved_106>", "<reserved_107>")),
    "deepseek": TemplateSpec("deepseek", "deepseek.jinja", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
                             "<｜end▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
                             ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>")),
}


def get_template(name: str) -> TemplateSpec:
    if name not in TEMPLATES:
        raise NotFoundError(f"unknown chat template '{name}'", f"known: {', '.join(TEMPLATES)}")
    return TEMPLATES[name]


def template_text(name: str) -> str:
    spec = get_template(name)
    return resources.files("luban.models").joinpath("templates", spec.file).read_text(encoding="utf-8")


# Hugging Face `model_type` (config.json) -> catalog template, for model directories that ship none.
# Qwen2 and Qwen2.5 share `qwen2`; plain ChatML (no default system prompt) fits both for training.
FAMILY_TEMPLATES: dict[str, str] = {
    "qwen2": "chatml",
    "qwen3": "qwen3",
    "llama": "llama3",
    "mistral": "mistral",
    "glm4": "glm4",
    "chatglm": "glm4",
    "baichuan": "baichuan2",
    "deepseek_v2": "deepseek",
    "deepseek_v3": "deepseek",
}


def template_for_model(model_dir: object) -> str:
    """The catalog template of a model directory's family (by `model_type` in config.json)."""
    import json
    from pathlib import Path

    cfg = json.loads((Path(str(model_dir)) / "config.json").read_text(encoding="utf-8"))
    model_type = str(cfg.get("model_type", ""))
    if model_type not in FAMILY_TEMPLATES:
        raise NotFoundError(f"model {model_dir} ships no chat template and its family '{model_type}' is not in "
                            "the catalog", f"set chat_template to one of {', '.join(TEMPLATES)} or a .jinja file")
    return FAMILY_TEMPLATES[model_type]
