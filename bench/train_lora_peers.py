"""LoRA SFT on CPU, side by side: Luban vs LLaMA-Factory vs a plain TRL script.

Same tiny model (the `demo` size of luban.models.tiny: Qwen2 architecture, 4 layers, hidden 256, trained BPE
tokenizer with the ChatML template), the same short-sample chat dataset, the same hyperparameters (LoRA r=16,
alpha=32, dropout 0.05 on all linear layers, lr 2e-4 cosine, warmup 3%, batch 8, 1 epoch, max length 256,
fp32, seed 42, loss on assistant tokens only). Each framework runs in its own process so peak RSS is its own
(os.wait4 ru_maxrss). Tokens/s = the dataset's tokens (chat-rendered, counted once with the same tokenizer)
per second of each trainer's own `train_runtime`, so every row shares one numerator. Rows:
  luban         `luban.train.sft` as users run it: on CPU (sdpa attention) the default is right-padded batches
  luban-free    padding_free on: 8 samples per step in one row, positions restarting per sample, no pad
                tokens, so the same steps as the padded runs
  luban-pack    packing on (an option): 8 blocks of up to 256 tokens per step, so fewer steps per epoch
  luban-matched packing on, batch = packed blocks holding ~8 samples' tokens, so optimizer steps (and so the
                loss reached in one epoch) match the unpacked runs
  trl           a plain TRL SFTTrainer script (no packing, assistant_only_loss)
  llamafactory  `llamafactory-cli train` from a separate venv (LLAMAFACTORY_PY, default ./.venv-bench)

  python bench/train_lora_peers.py --out /tmp/bench-lora [--samples 512] [--only luban trl]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HP: dict[str, Any] = {"r": 16, "alpha": 32, "dropout": 0.05, "lr": 2e-4, "batch": 8, "epochs": 1.0, "max_len": 256,
                      "warmup": 0.03, "seed": 42, "logging_steps": 5}
PRODUCTS = ["X100 robot vacuum", "L2 smart lock", "H1 home hub", "C3 camera", "P5 air purifier", "K7 kettle"]
FACTS = ["has a warranty of {n} years", "ships within {n} days", "is returnable within {n}0 days",
         "weighs {n} kilograms", "has {n} cleaning modes", "supports {n} user profiles"]
ASKS = ["Tell me about the {p}.", "What should I know about the {p}?", "Quick question on the {p}.", "{p}: details?"]


def chat_rows(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Short single-turn conversations (30-60 tokens), the regime where packing matters."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        p = rng.choice(PRODUCTS)
        facts = [rng.choice(FACTS).format(n=rng.randint(1, 9)) for _ in range(rng.randint(1, 2))]
        answer = f"The {p} " + " and ".join(facts) + "."
        msgs = [{"role": "user", "content": rng.choice(ASKS).format(p=p)}, {"role": "assistant", "content": answer}]
        if rng.random() < 0.3:
            msgs.insert(0, {"role": "system", "content": "You are the Acme assistant."})
        rows.append({"messages": msgs})
    return rows


def prepare(out: Path, samples: int) -> dict[str, Any]:
    """The model, the dataset in each framework's format, and the dataset's token count."""
    from luban.models.loading import load_tokenizer
    from luban.models.tiny import build_tiny

    rows = chat_rows(samples)
    model = out / "model"
    if not (model / "config.json").is_file():
        texts = [m["content"] for r in chat_rows(2000, seed=1) for m in r["messages"]]
        build_tiny(texts, model, arch="qwen2", size="demo", max_position_embeddings=1024)
    (out / "data").mkdir(parents=True, exist_ok=True)
    (out / "data" / "chat.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    (out / "data" / "dataset_info.json").write_text(json.dumps({"bench_chat": {
        "file_name": "chat.json", "formatting": "sharegpt", "columns": {"messages": "messages"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
                 "system_tag": "system"}}}), encoding="utf-8")
    tok = load_tokenizer(model)
    tokens = sum(len(tok.apply_chat_template(r["messages"], tokenize=True, return_dict=True)["input_ids"])
                 for r in rows)
    return {"model": str(model), "samples": samples, "tokens": tokens}


# ---------------------------------------------------------------- workers (one process each)
LUBAN_ROWS = {"luban": {}, "luban-free": {"padding_free": True}, "luban-pack": {"packing": True},
              "luban-matched": {"packing": True}}  # train settings of each row on top of HP


def run_luban(out: Path, row: str, batch: int = HP["batch"]) -> dict[str, Any]:
    import pyarrow as pa

    from luban.core.config import build_config
    from luban.core.shards import write_splits
    from luban.core.workspace import Workspace
    from luban.models.loading import ImportConfig, import_stage
    from luban.train.sft import SFTConfig, sft

    ws = Workspace(out / f"ws-{row}-{batch}")
    base = import_stage(ImportConfig(path=str(out / "model")), ws, None)
    rows = json.loads((out / "data" / "chat.json").read_text(encoding="utf-8"))
    with ws.create("dataset", None, "bench") as p:
        write_splits(p.path, {"train": pa.Table.from_pylist(rows)})
    assert p.result is not None
    cfg = build_config(SFTConfig, {"method": "lora", "lora": {"r": HP["r"], "alpha": HP["alpha"],
                                                             "dropout": HP["dropout"]},
                                   "train": {"lr": HP["lr"], "epochs": HP["epochs"], "batch_size": batch,
                                             "max_seq_length": HP["max_len"], **LUBAN_ROWS[row],
                                             "warmup_ratio": HP["warmup"], "seed": HP["seed"],
                                             "logging_steps": HP["logging_steps"], "save_steps": 100000}})
    s = sft(cfg, ws, {"model": base, "data": p.result}, None).manifest.stats
    ws.close()
    return {"train_seconds": s["train_seconds"], "final_loss": s["final_loss"], "train_loss": s["train_loss"],
            "steps": s["steps"], "batch": batch}


def run_trl(out: Path) -> dict[str, Any]:
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    model_dir = out / "model"
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    rows = json.loads((out / "data" / "chat.json").read_text(encoding="utf-8"))
    args = SFTConfig(output_dir=str(out / "trl-out"), learning_rate=HP["lr"], num_train_epochs=HP["epochs"],
                     per_device_train_batch_size=HP["batch"], max_length=HP["max_len"], packing=False,
                     assistant_only_loss=True, lr_scheduler_type="cosine", warmup_steps=HP["warmup"],
                     logging_steps=HP["logging_steps"], save_strategy="no", report_to=[], seed=HP["seed"],
                     use_cpu=True, disable_tqdm=True,
                     # TRL's own defaults are bf16=True and gradient_checkpointing=True; on CPU both slow it down
                     # (bf16 autocast without AMX, recomputation) and differ from the fp32 run of the others
                     bf16=False, gradient_checkpointing=False)
    peft = LoraConfig(r=HP["r"], lora_alpha=HP["alpha"], lora_dropout=HP["dropout"], target_modules="all-linear",
                      task_type="CAUSAL_LM")
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok,
                         peft_config=peft)
    res = trainer.train()
    losses = [r["loss"] for r in trainer.state.log_history if "loss" in r]
    return {"train_seconds": res.metrics["train_runtime"], "final_loss": losses[-1], "train_loss": res.training_loss,
            "steps": trainer.state.global_step}


def llamafactory_yaml(out: Path) -> Path:
    cfg = {"model_name_or_path": str(out / "model"), "stage": "sft", "do_train": True, "finetuning_type": "lora",
           "lora_rank": HP["r"], "lora_alpha": HP["alpha"], "lora_dropout": HP["dropout"], "lora_target": "all",
           "dataset": "bench_chat", "dataset_dir": str(out / "data"), "template": "chatml",
           "cutoff_len": HP["max_len"], "overwrite_cache": True, "preprocessing_num_workers": 1,
           "output_dir": str(out / "lf-out"), "overwrite_output_dir": True, "logging_steps": HP["logging_steps"],
           "save_strategy": "no", "per_device_train_batch_size": HP["batch"], "gradient_accumulation_steps": 1,
           "learning_rate": HP["lr"], "num_train_epochs": HP["epochs"], "lr_scheduler_type": "cosine",
           "warmup_ratio": HP["warmup"], "seed": HP["seed"], "report_to": "none", "bf16": False,
           "disable_tqdm": True,
           "disable_gradient_checkpointing": True}  # LLaMA-Factory turns checkpointing on by default; others don't
    import yaml

    path = out / "llamafactory.yaml"  # its JSON config reader is broken in 0.9.5 (json.load on a Path)
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def read_llamafactory(out: Path) -> dict[str, Any]:
    state = json.loads((out / "lf-out" / "trainer_state.json").read_text(encoding="utf-8"))
    res = json.loads((out / "lf-out" / "train_results.json").read_text(encoding="utf-8"))
    losses = [r["loss"] for r in state["log_history"] if "loss" in r]
    return {"train_seconds": res["train_runtime"], "final_loss": losses[-1], "train_loss": res["train_loss"],
            "steps": state["global_step"]}


# ---------------------------------------------------------------- driver
def measure(cmd: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """(exit code, wall seconds, peak RSS MiB) of a child process."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), time.monotonic() - start, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench-lora"))
    ap.add_argument("--samples", type=int, default=512)
    ap.add_argument("--only", nargs="*", default=[*LUBAN_ROWS, "trl", "llamafactory"])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        if a.worker == "trl":
            result = run_trl(a.out)
        elif a.worker == "luban-matched":
            info = json.loads((a.out / "info.json").read_text(encoding="utf-8"))
            per_sample = info["tokens"] / info["samples"]
            result = run_luban(a.out, a.worker, max(1, round(HP["batch"] * per_sample / HP["max_len"])))
        else:
            result = run_luban(a.out, a.worker)
        (a.out / f"{a.worker}.json").write_text(json.dumps(result), encoding="utf-8")
        return
    a.out.mkdir(parents=True, exist_ok=True)
    info = prepare(a.out, a.samples)
    (a.out / "info.json").write_text(json.dumps(info), encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "DISABLE_VERSION_CHECK": "1",
           "CUDA_VISIBLE_DEVICES": ""}
    lf_py = Path(os.environ.get("LLAMAFACTORY_PY", ROOT / ".venv-bench" / "bin" / "python"))
    previous = a.out / "results.json"  # rows of earlier runs into the same --out are kept (and re-run if named)
    rows: dict[str, dict[str, Any]] = json.loads(previous.read_text())["rows"] if previous.is_file() else {}
    for name in a.only:
        if name == "llamafactory":
            cmd = [str(lf_py), "-m", "llamafactory.cli", "train", str(llamafactory_yaml(a.out))]
        else:
            cmd = [sys.executable, __file__, "--out", str(a.out), "--worker", name]
        print(f"== {name}: {' '.join(cmd)}", flush=True)
        rc, wall, rss = measure(cmd, env)
        if rc != 0:
            rows[name] = {"error": f"exit {rc}"}
            continue
        r = read_llamafactory(a.out) if name == "llamafactory" else json.loads(
            (a.out / f"{name}.json").read_text(encoding="utf-8"))
        r.update(wall_seconds=round(wall, 1), peak_rss_mib=round(rss), tokens_per_s=info["tokens"] / r["train_seconds"])
        rows[name] = r
    print(f"\n{info['samples']} samples, {info['tokens']} tokens, 1 epoch, CPU threads={os.cpu_count()}")
    print(f"{'':14}{'tokens/s':>10}{'train s':>9}{'steps':>7}{'peak RSS MiB':>14}{'final loss':>12}{'mean loss':>11}")
    for name, r in rows.items():
        if "error" in r:
            print(f"{name:14}{r['error']}")
            continue
        final = f"{r['final_loss']:.4f}" if r["final_loss"] is not None else "-"
        print(f"{name:14}{r['tokens_per_s']:>10.0f}{r['train_seconds']:>9.1f}{r['steps']:>7}{r['peak_rss_mib']:>14}"
              f"{final:>12}{r['train_loss']:>11.4f}")
    if "luban" in rows and "error" not in rows["luban"]:
        for peer in ("llamafactory", "trl"):
            if peer in rows and "error" not in rows[peer]:
                lu, pe = rows["luban"], rows[peer]
                print(f"luban / {peer}: tokens/s x{lu['tokens_per_s'] / pe['tokens_per_s']:.2f}, peak RSS "
                      f"x{lu['peak_rss_mib'] / pe['peak_rss_mib']:.2f}, final loss "
                      f"{100 * (lu['final_loss'] / pe['final_loss'] - 1):+.1f}%")
    (a.out / "results.json").write_text(json.dumps({"info": info, "rows": rows}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
