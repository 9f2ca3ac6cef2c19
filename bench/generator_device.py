"""The embedded generator on whatever device is visible, needing only `lab.llm` (no KB, no embedder, no ragas).

`bench/kv.py` needs the whole lab and a built demo KB. A GPU box is often a bare image with PyTorch and
little else, so this bench measures what the device changes with the generator alone, in one run:

1. Answer-length generation speed in bf16 and in fp32 on the same device (the lab picks bf16 on CUDA).
2. The KV cache on/off speedup at 32–256 new tokens.
3. Cache bytes measured beside theory at long contexts (up to the model's 32k window).
4. Every cache mode (dynamic, static, int4, int2, fp8) at the longest context: bytes, speed, and agreement
   with the dynamic cache on neutral completion prompts.

Prompts are neutral filler text with a question about it (`lab.llm.kv_experiments.FILLER`), so no corpus
is needed; agreement figures are therefore about that text, not about the demo questions.

    .venv/bin/python bench/generator_device.py [--contexts 1024,4096,8192,16384,32000] [--mode-context 8192]
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

import lab  # noqa: F401
from lab.core import LabSettings
from lab.core.placement import resolve_placement
from lab.llm import DYNAMIC, KV_MODES, cache_modes, cache_on_off, load_generator, memory_by_context, prompt_of_length
from lab.llm.transformers_backend import TransformersGenerator

MIB = 2**20
QUESTIONS = ("When does the ferry leave the harbour?", "Which way does the dimmer ring turn to brighten the light?",
             "What does the lamp's base hold?", "When does the ferry return?")


def numbers(spec: str) -> list[int]:
    return [int(part) for part in spec.split(",") if part.strip()]


def load(home: Path, dtype: str) -> TransformersGenerator:
    settings = LabSettings(home=home, backend="transformers", dtype=dtype, context_tokens=32768)
    started = time.perf_counter()
    generator = load_generator(settings, resolve_placement(settings))
    print(f"loaded {generator.describe()} in {time.perf_counter() - started:.1f} s", flush=True)
    return generator


def answer_prompt(generator: TransformersGenerator, context: int, question: str) -> str:
    return f"{prompt_of_length(generator, context)}\nQuestion: {question}\nAnswer:"


def generation_speed(generator: TransformersGenerator, repeats: int = 3) -> tuple[float, float]:
    """Tokens per second and prompt-reading ms for a 600-token prompt and 64 new tokens (median of repeats)."""
    prompt = answer_prompt(generator, 600, QUESTIONS[0])
    generator.generate(prompt, stop=(), max_new_tokens=8)
    runs = sorted((generator.generate(prompt, stop=(), max_new_tokens=64) for _ in range(repeats)), key=lambda g: g.ms)
    middle = runs[len(runs) // 2]
    return middle.new_tokens / (middle.ms / 1000), middle.ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", default="32,64,128,256")
    parser.add_argument("--contexts", default="1024,4096,8192,16384,32000")
    parser.add_argument("--mode-context", type=int, default=8192)
    parser.add_argument("--modes", default=",".join(KV_MODES))
    parser.add_argument("--json", type=Path, help="Also write the raw rows here.")
    args = parser.parse_args()
    if torch.cuda.is_available():
        print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as home:
        speeds = {}
        for dtype in ("float32", "auto"):
            generator = load(Path(home), dtype)
            speeds[str(generator.model.dtype)] = generation_speed(generator)
        print("\n| dtype | tokens/s | ms for 64 tokens |\n| --- | ---: | ---: |")
        for dtype, (rate, ms) in speeds.items():
            print(f"| {dtype} | {rate:.1f} | {ms:.0f} |", flush=True)

        on_off, _ = cache_on_off(generator, prompt_of_length(generator, 64), numbers(args.new_tokens))
        print("\n| new tokens | with cache (ms) | without (ms) | speedup |\n| ---: | ---: | ---: | ---: |")
        for on in (row for row in on_off if row.mode == "cache on"):
            off = next(r for r in on_off if r.mode == "cache off" and r.new_tokens == on.new_tokens)
            print(f"| {on.new_tokens} | {on.ms:.0f} | {off.ms:.0f} | {on.detail['speedup']:.2f}x |", flush=True)

        memory = memory_by_context([generator], numbers(args.contexts))
        print("\n| context tokens | measured (MiB) | theory (MiB) | every layer at every token (MiB) | prefill ms |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        measured = [row for row in memory if row.mode != "naive formula"]
        for row, naive in zip(measured, (row for row in memory if row.mode == "naive formula")):
            print(f"| {row.context_tokens} | {row.kv_bytes_measured / MIB:.2f} | {row.kv_bytes_theory / MIB:.2f} | "
                  f"{naive.kv_bytes_theory / MIB:.2f} | {row.ms:.0f} |", flush=True)

        prompts = [answer_prompt(generator, args.mode_context // 4 * (n + 1), q) for n, q in enumerate(QUESTIONS)]
        print("\n| mode | KV at longest (MiB) | theory (MiB) | x dynamic | tokens/s | token agreement | answer agreement |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        modes = []
        for mode in args.modes.split(","):
            try:  # each mode beside its own dynamic reference, so one that cannot run here does not stop the rest
                pair = cache_modes(generator, prompts, 32, [args.mode_context], list(dict.fromkeys([DYNAMIC, mode])))
            except Exception as error:
                print(f"| {mode} | failed: {type(error).__name__}: {str(error)[:160]} |", flush=True)
                continue
            modes += pair[-2:]
            timed, sized = pair[-2], pair[-1]
            dynamic = pair[1]
            print(f"| {mode} | {sized.kv_bytes_measured / MIB:.2f} | {sized.kv_bytes_theory / MIB:.2f} | "
                  f"{sized.kv_bytes_measured / dynamic.kv_bytes_measured:.2f} | {timed.tokens_per_s:.1f} | "
                  f"{timed.agreement:.0%} | {timed.answer_agreement:.0%} |", flush=True)
        rows = [*on_off, *memory, *modes]
    if args.json:
        args.json.write_text(json.dumps([row.to_dict() for row in rows], indent=2))


if __name__ == "__main__":
    main()
