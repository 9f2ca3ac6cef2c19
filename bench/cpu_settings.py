"""llama.cpp on the CPU: which of its settings cost prompt-reading speed, and what a shared CPU costs an answer.

`--part config`: prompt reading (prefill tokens/s, cold, medians over `--repeats`) under the settings that
could slow it: batch and micro-batch size, the 16-sequence unified context the lab scores candidates in,
flash attention, an 8-bit KV cache. Each configuration is loaded fresh and timed on the same demo prompts.

`--part shared`: seconds per answer of traditional RAG in select mode on the demo questions, with the CPU
quiet and with one other CPU-bound process running, for llama.cpp on every core and on one core fewer
(the `generator_threads` setting). Target: with the other process running, <= 3x the quiet time.

Both print the CPU and the llama.cpp build first (`bench/backends.py` does the same).

    .venv/bin/python bench/cpu_settings.py --part config
    .venv/bin/python bench/cpu_settings.py --part shared [--questions 5]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backends import demo_prompts, machine

from lab.context import build_context
from lab.core import LabSettings, usable_cores
from lab.ingestion import DEMO_FILE, ingest_paths
from lab.llm import embedded_gguf

LLAMA_CONFIGS = {
    "the lab's: batch 128, 16 sequences": {"n_batch": 128, "sequences": 16},
    "llama.cpp's defaults: batch 512, 1 sequence": {"n_batch": 512, "sequences": 1},
    "batch 512, 16 sequences": {"n_batch": 512, "sequences": 16},
    "batch 128, 1 sequence": {"n_batch": 128, "sequences": 1},
    "the lab's + flash attention": {"n_batch": 128, "sequences": 16, "flash_attn": True},
    "the lab's + flash attention + q8_0 KV cache": {"n_batch": 128, "sequences": 16, "flash_attn": True,
                                                     "type_k": 8, "type_v": 8},
}


def prefill_rate(config: dict, prompts: list[str], repeats: int) -> float:
    import llama_cpp

    from lab.llm.llama_cpp_backend import _reopen_with_parallel_sequences

    options = {key: value for key, value in config.items() if key not in ("n_batch", "sequences")}
    llama = llama_cpp.Llama(model_path=str(embedded_gguf(LabSettings().model_cache)), n_ctx=4096,
                            n_batch=config["n_batch"], n_ubatch=config["n_batch"], logits_all=False, verbose=False,
                            n_threads=usable_cores(), n_threads_batch=usable_cores(), **options)
    if config["sequences"] > 1:
        _reopen_with_parallel_sequences(llama, config["sequences"])
    token_lists = [llama.tokenize(prompt.encode(), add_bos=True) for prompt in prompts]
    rates = []
    for _ in range(repeats + 1):
        for ids in token_lists:
            llama.reset()
            llama._ctx.kv_cache_seq_rm(-1, 0, -1)
            started = time.perf_counter()
            llama.eval(ids)
            rates.append(len(ids) / (time.perf_counter() - started))
    llama.close()
    return statistics.median(rates[len(token_lists):])


def part_config(args) -> None:
    home = Path(tempfile.mkdtemp(prefix="raglab-bench-config-"))
    prompts = demo_prompts(LabSettings(home=home), args.prompts)
    rates = {label: prefill_rate(config, prompts, args.repeats) for label, config in LLAMA_CONFIGS.items()}
    first = next(iter(rates.values()))
    print("| llama.cpp configuration | prefill tokens/s | against the lab's |")
    print("|---|---|---|")
    for label, rate in rates.items():
        print(f"| {label} | {rate:.0f} | {rate / first:.2f}x |")


def seconds_per_answer(settings: LabSettings, questions: list[str]) -> float:
    from strategies import get_strategy

    ctx = build_context(settings, "demo")
    strategy = get_strategy("traditional")
    strategy.answer(questions[0], ctx)
    started = time.perf_counter()
    for question in questions:
        strategy.answer(question, ctx)
    return (time.perf_counter() - started) / len(questions)


def part_shared(args) -> None:
    """An answer's time with the CPU to itself and beside one busy process, on every core and one core fewer."""
    home = Path(tempfile.mkdtemp(prefix="raglab-bench-shared-"))
    ingest_paths(LabSettings(home=home), "demo", [DEMO_FILE])
    questions = [item["question"] for item in json.loads(DEMO_FILE.read_text())[: args.questions]]
    cores = usable_cores()
    times = {}
    for threads in sorted({cores, max(1, cores - 1)}, reverse=True):
        settings = LabSettings(home=home, generator_threads=threads, answer_mode="select")
        times[threads, "quiet"] = seconds_per_answer(settings, questions)
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            times[threads, "busy"] = seconds_per_answer(settings, questions)
        finally:
            busy.kill()
        print(f"{threads} threads: quiet {times[threads, 'quiet']:.2f} s, busy {times[threads, 'busy']:.2f} s", flush=True)
    quiet = times[cores, "quiet"]
    print(f"\ntraditional, select mode, {len(questions)} demo questions, seconds per answer\n")
    print("| llama.cpp threads | CPU quiet | one other busy process | busy / quiet on every core |")
    print("|---|---|---|---|")
    for threads in sorted({threads for threads, _ in times}, reverse=True):
        print(f"| {threads} of {cores} | {times[threads, 'quiet']:.2f} | {times[threads, 'busy']:.2f} | "
              f"{times[threads, 'busy'] / quiet:.2f}x |")
    print("\ntarget: beside a busy process, <= 3x the quiet time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["config", "shared", "all"], default="all")
    parser.add_argument("--prompts", type=int, default=3, help="demo prompts per repeat (config part)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--questions", type=int, default=5, help="demo questions (shared part)")
    args = parser.parse_args()
    print(machine())
    if args.part in ("config", "all"):
        part_config(args)
    if args.part in ("shared", "all"):
        part_shared(args)


if __name__ == "__main__":
    main()
