"""The GPU path end to end: placement, bf16, per-stage peak memory and KV bytes on CUDA.

Runs traditional RAG over demo questions with whatever generator and embedder the settings name.
With `--random-init`, the two model folders need only configs and tokenizers: weights are drawn at
random from those configs, which measures memory and speed truthfully (not answer quality) on a
machine where the real weights cannot be copied.

    .venv/bin/python bench/gpu_path.py --generator DIR --embedder DIR [--random-init] [--questions 5]
"""

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import lab  # noqa: F401
import torch

from app.running import ask
from lab.context import build_context
from lab.core import LabSettings, resolve_placement
from lab.ingestion import DEMO_FILE, ingest_paths


def random_init(generator_dir: Path, embedder_dir: Path) -> None:
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(generator_dir)).save_pretrained(generator_dir)
    AutoModel.from_config(AutoConfig.from_pretrained(embedder_dir)).save_pretrained(embedder_dir)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", type=Path)
    parser.add_argument("--embedder", type=Path)
    parser.add_argument("--random-init", action="store_true")
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    overrides = {}
    if args.generator and args.embedder:
        if args.random_init:
            random_init(args.generator, args.embedder)
        overrides = {"generator": str(args.generator), "embedder": str(args.embedder)}
    settings = LabSettings(home=Path(tempfile.mkdtemp(prefix="raglab-gpu-")), backend="transformers", **overrides)
    placement = resolve_placement(settings)
    print(f"placement: {placement.device} {placement.dtype}; torch {torch.__version__}; "
          f"GPU: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}")

    started = time.perf_counter()
    report = ingest_paths(settings, "demo", [DEMO_FILE])
    print(f"ingest: {report.chunks_added} chunks in {time.perf_counter() - started:.1f} s "
          f"(embedding {report.embed_seconds:.2f} s, {report.chunks_added / report.embed_seconds:.0f} chunks/s)")

    ctx = build_context(settings, "demo")
    print(f"generator on {ctx.generator.device} {ctx.generator.model.dtype}; embedder on {ctx.embedder.model.device}")
    dense = ctx.kb._dense
    dense.search(ctx.embedder.embed("warm up")[None, :], 1)
    print(f"FAISS search runs on: {'GPU' if dense._gpu_index is not None else 'CPU (faiss GPU build not installed)'}")

    questions = [r["question"] for r in json.loads(DEMO_FILE.read_text())][: args.questions]
    ask(questions[0], "traditional", ctx)
    rows = []
    for question in questions:
        answer = ask(question, "traditional", ctx)
        rows.append(answer)
    for name in ("embed", "retrieve", "generate"):
        stages = [s for a in rows for s in a.trace.stages if s.name == name]
        peak = max(s.peak_cuda_bytes or 0 for s in stages)
        print(f"  {name:<9} {statistics.mean(s.ms for s in stages):8.1f} ms mean, peak CUDA allocated {peak / 2**20:8.1f} MiB")
    for answer in rows:
        call = answer.trace.llm_calls[0]
        print(f"  prompt {call.prompt_tokens:5d} new {call.new_tokens:3d}  KV measured {call.kv_bytes:>10,d} B"
              f"  theory {call.kv_bytes_theory:>10,d} B  ratio {call.kv_bytes / call.kv_bytes_theory:.4f}")

    long_prompt = "The river flows past the old mill. " * 220 + "Question: where does the river flow?\nAnswer:"
    generation = ctx.generator.generate(long_prompt, max_new_tokens=16)
    print(f"long prompt {generation.prompt_tokens} tokens: KV measured {generation.kv_bytes:,d} B, "
          f"theory {generation.kv_bytes_theory:,d} B, ratio {generation.kv_bytes / generation.kv_bytes_theory:.4f}")


if __name__ == "__main__":
    main()
