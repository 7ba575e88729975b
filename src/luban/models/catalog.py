"""Catalog of known open model families as plain data: architecture, context, licence, languages, template.

One `ModelCard` per published size, no subclasses and no flags (litgpt's lesson). The dimensions are
copied from each model's `config.json` on the Hugging Face Hub; the advisor derives parameter counts
from them, and a test checks the derived counts against the published sizes, which guards the table
against typos. `template` names the chat template family the model was trained with (chatml for the
Qwen and Yi families, llama3, mistral, glm4, baichuan2, deepseek, internlm2); Luban ships the ones in
`luban.models.chat_templates.TEMPLATES` and reads the others from the model's own tokenizer_config.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from luban.core.errors import NotFoundError


@dataclass(frozen=True)
class ModelCard:
    family: str  # "qwen2.5"
    size: str  # "7b"
    hf_id: str  # where the weights are published
    hidden: int
    layers: int
    heads: int
    kv_heads: int
    intermediate: int
    vocab: int
    context: int  # tokens, as published (with the model's own rope scaling where it ships one)
    licence: str
    languages: tuple[str, ...]
    template: str
    tied_embeddings: bool = False
    head_dim: int | None = None  # when not hidden / heads (Qwen3, Mistral-Nemo)
    notes: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        return f"{self.family}-{self.size}"


ZH_EN = ("zh", "en")
MULTI = ("zh", "en", "+27 more")
LLAMA_LANGS = ("en", "de", "fr", "it", "pt", "hi", "es", "th")


def _qwen25(size: str, h: int, layers: int, heads: int, kv: int, inter: int, vocab: int, ctx: int,
            tied: bool, licence: str = "Apache-2.0") -> ModelCard:
    return ModelCard("qwen2.5", size, f"Qwen/Qwen2.5-{size.upper()}-Instruct", h, layers, heads, kv, inter,
                     vocab, ctx, licence, MULTI, "chatml", tied)


def _qwen3(size: str, h: int, layers: int, heads: int, kv: int, inter: int, tied: bool) -> ModelCard:
    return ModelCard("qwen3", size, f"Qwen/Qwen3-{size.upper()}", h, layers, heads, kv, inter, 151936, 32768,
                     "Apache-2.0", MULTI, "chatml", tied, head_dim=128,
                     notes="131072 tokens with YaRN rope scaling")


CARDS: tuple[ModelCard, ...] = (
    _qwen25("0.5b", 896, 24, 14, 2, 4864, 151936, 32768, True),
    _qwen25("1.5b", 1536, 28, 12, 2, 8960, 151936, 32768, True),
    _qwen25("3b", 2048, 36, 16, 2, 11008, 151936, 32768, True, "Qwen Research License"),
    _qwen25("7b", 3584, 28, 28, 4, 18944, 152064, 131072, False),
    _qwen25("14b", 5120, 48, 40, 8, 13824, 152064, 131072, False),
    _qwen25("32b", 5120, 64, 40, 8, 27648, 152064, 131072, False),
    _qwen25("72b", 8192, 80, 64, 8, 29568, 152064, 131072, False, "Qwen License"),
    _qwen3("0.6b", 1024, 28, 16, 8, 3072, True),
    _qwen3("1.7b", 2048, 28, 16, 8, 6144, True),
    _qwen3("4b", 2560, 36, 32, 8, 9728, True),
    _qwen3("8b", 4096, 36, 32, 8, 12288, False),
    _qwen3("14b", 5120, 40, 40, 8, 17408, False),
    _qwen3("32b", 5120, 64, 64, 8, 25600, False),
    ModelCard("llama3.2", "1b", "meta-llama/Llama-3.2-1B-Instruct", 2048, 16, 32, 8, 8192, 128256, 131072,
              "Llama 3.2 Community License", LLAMA_LANGS, "llama3", True),
    ModelCard("llama3.2", "3b", "meta-llama/Llama-3.2-3B-Instruct", 3072, 28, 24, 8, 8192, 128256, 131072,
              "Llama 3.2 Community License", LLAMA_LANGS, "llama3", True),
    ModelCard("llama3.1", "8b", "meta-llama/Llama-3.1-8B-Instruct", 4096, 32, 32, 8, 14336, 128256, 131072,
              "Llama 3.1 Community License", LLAMA_LANGS, "llama3"),
    ModelCard("llama3.3", "70b", "meta-llama/Llama-3.3-70B-Instruct", 8192, 80, 64, 8, 28672, 128256, 131072,
              "Llama 3.3 Community License", LLAMA_LANGS, "llama3"),
    ModelCard("mistral", "7b", "mistralai/Mistral-7B-Instruct-v0.3", 4096, 32, 32, 8, 14336, 32768, 32768,
              "Apache-2.0", ("en", "fr", "de", "es", "it"), "mistral"),
    ModelCard("mistral-nemo", "12b", "mistralai/Mistral-Nemo-Instruct-2407", 5120, 40, 32, 8, 14336, 131072,
              131072, "Apache-2.0", ("en", "fr", "de", "es", "it", "pt", "zh", "ja", "ko", "ar", "hi"),
              "mistral", head_dim=128),
    ModelCard("glm4", "9b", "THUDM/glm-4-9b-chat", 4096, 40, 32, 2, 13696, 151552, 131072,
              "GLM-4 License (commercial use after registration)", ZH_EN + ("ja", "ko", "de", "+21 more"),
              "glm4"),
    ModelCard("baichuan2", "7b", "baichuan-inc/Baichuan2-7B-Chat", 4096, 32, 32, 32, 11008, 125696, 4096,
              "Baichuan 2 Community License (commercial use after application)", ZH_EN, "baichuan2"),
    ModelCard("baichuan2", "13b", "baichuan-inc/Baichuan2-13B-Chat", 5120, 40, 40, 40, 13696, 125696, 4096,
              "Baichuan 2 Community License (commercial use after application)", ZH_EN, "baichuan2",
              notes="ALiBi positions"),
    ModelCard("deepseek-llm", "7b", "deepseek-ai/deepseek-llm-7b-chat", 4096, 30, 32, 32, 11008, 102400, 4096,
              "DeepSeek License", ZH_EN, "deepseek"),
    ModelCard("deepseek-llm", "67b", "deepseek-ai/deepseek-llm-67b-chat", 8192, 95, 64, 8, 22016, 102400, 4096,
              "DeepSeek License", ZH_EN, "deepseek"),
    ModelCard("deepseek-r1-qwen", "7b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", 3584, 28, 28, 4,
              18944, 152064, 131072, "MIT", ZH_EN, "deepseek", notes="reasoning model distilled into Qwen2.5"),
    ModelCard("deepseek-r1-qwen", "14b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", 5120, 48, 40, 8,
              13824, 152064, 131072, "MIT", ZH_EN, "deepseek", notes="reasoning model distilled into Qwen2.5"),
    ModelCard("yi1.5", "6b", "01-ai/Yi-1.5-6B-Chat", 4096, 32, 32, 4, 11008, 64000, 4096, "Apache-2.0", ZH_EN,
              "chatml", notes="16K and 32K variants published"),
    ModelCard("yi1.5", "9b", "01-ai/Yi-1.5-9B-Chat", 4096, 48, 32, 4, 11008, 64000, 4096, "Apache-2.0", ZH_EN,
              "chatml", notes="16K and 32K variants published"),
    ModelCard("yi1.5", "34b", "01-ai/Yi-1.5-34B-Chat", 7168, 60, 56, 8, 20480, 64000, 4096, "Apache-2.0", ZH_EN,
              "chatml", notes="16K and 32K variants published"),
    ModelCard("internlm2.5", "1.8b", "internlm/internlm2_5-1_8b-chat", 2048, 24, 16, 8, 8192, 92544, 32768,
              "InternLM License (free commercial use after application)", ZH_EN, "internlm2"),
    ModelCard("internlm2.5", "7b", "internlm/internlm2_5-7b-chat", 4096, 32, 32, 8, 14336, 92544, 32768,
              "InternLM License (free commercial use after application)", ZH_EN, "internlm2",
              notes="1M-token variant published"),
    ModelCard("internlm2.5", "20b", "internlm/internlm2_5-20b-chat", 6144, 48, 48, 8, 16384, 92544, 32768,
              "InternLM License (free commercial use after application)", ZH_EN, "internlm2"),
)

CATALOG: dict[str, ModelCard] = {c.key: c for c in CARDS}


def families() -> list[str]:
    return sorted({c.family for c in CARDS})


def find_card(family: str, size: str | None = None) -> ModelCard:
    """A card by `family` and `size` ("qwen2.5", "7b"), or by one key ("qwen2.5-7b"); case-insensitive."""
    import difflib

    key = f"{family}-{size}" if size else family
    key = key.lower().replace("_", "-")
    if key in CATALOG:
        return CATALOG[key]
    sizes = [c.size for c in CARDS if c.family == family.lower()]
    if sizes:
        raise NotFoundError(f"{family} has no size '{size}'", f"known sizes: {', '.join(sizes)}")
    close = difflib.get_close_matches(key, list(CATALOG), n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'?" if close else f"known families: {', '.join(families())}"
    raise NotFoundError(f"model '{key}' is not in the catalog", hint + " (`luban models list`)")
