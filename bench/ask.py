"""Where the time of one `ask` goes, how long models take to load, and what the lab adds on top.

- cold load: a fresh Python process importing the libraries and loading generator + embedder
  (from the converted-weights cache; the one-time GGUF conversion is reported when it happens);
- warm load: loading them again inside an already-warm process;
- stage breakdown of traditional RAG, averaged over the demo questions;
- overhead (on the transformers backend, whose raw calls it can make): end-to-end `ask` time / the sum of the raw model and index calls it makes
  (embedder.encode, faiss search, model.generate on the same prompt). Target <= 1.10.

    .venv/bin/python bench/ask.py [--questions 5]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import lab  # noqa: F401
from app.running import ask
from lab.context import build_context
from lab.core import LabSettings, resolve_placement
from lab.ingestion import DEMO_FILE, ingest_paths
from lab.kb import load_embedder
from lab.llm import ANSWER_STOP, answer_prompt, load_generator

COLD_LOAD = """
import time; started = time.perf_counter()
import lab
from lab.core import LabSettings
from lab.kb import load_embedder
from lab.llm import load_generator
from lab.core import resolve_placement
s = LabSettings(backend="transformers"); p = resolve_placement(s); load_generator(s, p); load_embedder(s, p)
print(time.perf_counter() - started)
"""


def cold_load_seconds() -> float:
    result = subprocess.run([sys.executable, "-c", COLD_LOAD], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def raw_seconds(ctx, question: str) -> float:
    """The same work as traditional RAG, calling the libraries directly."""
    import torch

    started = time.perf_counter()
    vector = ctx.embedder.model.encode([question], normalize_embeddings=True)
    ctx.kb._dense._index.search(vector, ctx.settings.top_k)
    searched = time.perf_counter() - started
    passages = ctx.kb.dense_search(vector[0], ctx.settings.top_k)
    prompt = answer_prompt(question, passages, ctx.settings.answer_template)
    inputs = ctx.generator.tokenizer(prompt, return_tensors="pt").to(ctx.generator.device)
    started = time.perf_counter()
    with torch.inference_mode():
        ctx.generator.model.generate(
            **inputs, max_new_tokens=ctx.settings.max_new_tokens, do_sample=False,
            stop_strings=list(ANSWER_STOP), tokenizer=ctx.generator.tokenizer,
            pad_token_id=ctx.generator.tokenizer.pad_token_id,
        )
    return searched + time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    settings = LabSettings(home=Path(tempfile.mkdtemp(prefix="raglab-bench-")), backend="transformers")

    started = time.perf_counter()
    placement = resolve_placement(settings)
    load_generator(settings, placement)
    print(f"first load in this process (converts the GGUF once if never done): {time.perf_counter() - started:.1f} s")
    print(f"cold load, fresh process (imports + generator + embedder): {cold_load_seconds():.1f} s")
    started = time.perf_counter()
    load_generator(settings, placement)
    load_embedder(settings, placement)
    print(f"warm load, same process (generator + embedder): {time.perf_counter() - started:.1f} s")

    ingest_paths(settings, "demo", [DEMO_FILE])
    ctx = build_context(settings, "demo")
    questions = [r["question"] for r in json.loads(DEMO_FILE.read_text())][: args.questions]
    ask(questions[0], "traditional", ctx)

    stage_ms: dict[str, list[float]] = defaultdict(list)
    lab_total = raw_total = 0.0
    for question in questions:
        started = time.perf_counter()
        answer = ask(question, "traditional", ctx)
        lab_total += time.perf_counter() - started
        raw_total += raw_seconds(ctx, question)
        for stage in answer.trace.stages:
            stage_ms[stage.name].append(stage.ms)

    print(f"\ntraditional RAG on {len(questions)} demo questions, device {placement.device}:")
    for name, values in stage_ms.items():
        print(f"  {name:<10} {statistics.mean(values):9.1f} ms mean")
    print(f"\nlab end-to-end {lab_total:.2f} s vs raw calls {raw_total:.2f} s: overhead ratio {lab_total / raw_total:.3f}"
          "   (target <= 1.10)")


if __name__ == "__main__":
    main()
