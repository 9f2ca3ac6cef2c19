"""Generator backends side by side, in one run on one machine: speed of the model, then of a whole evaluation.

Every part first prints the CPU (model, cores this process may use, its SIMD features) and what the
installed llama.cpp was built with: its figures hold for that CPU and build only. llama.cpp's own
settings and a shared CPU are measured by `bench/cpu_settings.py`.

`--part tokens`: the embedded model through transformers (fp32, de-quantized) and through llama.cpp
(Q4_K_M as shipped), on the same answer prompts built from the demo KB (top-5 passages, about 600
tokens), greedy. Prefill tokens/s is the prompt's tokens over the time to the first new token, with no
cache reuse; decode tokens/s is the remaining new tokens over the remaining time; load is the time to
a usable generator in this process. Medians over `--repeats`. Targets: llama-cpp decode >= 6x, prefill
no slower. `--compare-wheel W` adds a llama-cpp row for another build of llama-cpp-python (a wheel file,
say the portable AVX2 one), measured in a child process on the same prompts in the same run.

`--part eval`: `raglab eval` on the bundled demo set with every strategy (default metrics), wall time
of the command, with `transformers` and `llama-cpp` in process, and with the `openai` backend against
llama-cpp-python's server on the same GGUF at concurrency 1 and 8. Targets: llama-cpp in process at
least 3x faster than transformers; concurrency 8 at least 1.5x the items/s of concurrency 1.

    .venv/bin/python bench/backends.py --part tokens [--compare-wheel OTHER.whl]
    .venv/bin/python bench/backends.py --part eval [--limit 20]
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import lab  # noqa: F401
from lab.context import build_context
from lab.core import LabSettings, resolve_placement, usable_cores
from lab.ingestion import DEMO_FILE, ingest_paths
from lab.llm import answer_prompt, embedded_gguf, load_generator

REPO_ROOT = Path(__file__).resolve().parent.parent
NEW_TOKENS = 64
SIMD_FEATURES = ("avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "asimd", "sve")


def machine() -> str:
    """The CPU and the llama.cpp build the figures belong to."""
    import llama_cpp

    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    pairs = (line.split(":", 1) for line in cpuinfo.splitlines() if ":" in line)
    fields = {key.strip(): value.strip() for key, value in pairs}
    model = fields.get("model name", platform.processor())
    features = set(fields.get("flags", fields.get("Features", "")).split())
    build = llama_cpp.llama_print_system_info().decode().strip()
    simd = " ".join(feature for feature in SIMD_FEATURES if feature in features)
    return (f"CPU: {model}, {usable_cores()} cores usable, SIMD: {simd}\n"
            f"llama.cpp {llama_cpp.__version__} build: {build}\n")


def demo_prompts(settings: LabSettings, count: int) -> list[str]:
    ingest_paths(settings, "demo", [DEMO_FILE])
    ctx = build_context(settings, "demo")
    questions = [item["question"] for item in json.loads(DEMO_FILE.read_text())[:count]]
    return [
        answer_prompt(q, ctx.kb.dense_search(ctx.embedder.embed(q), settings.top_k), settings.answer_template)
        for q in questions
    ]


def forget_cache(generator) -> None:
    """Make the next prompt a cold one: llama.cpp would otherwise reuse a cached prefix."""
    if generator.backend == "llama-cpp":
        generator.llama.reset()
        generator._reusable = 0


def token_speeds(generator, prompts: list[str], repeats: int) -> dict[str, float]:
    prefill, decode, prompt_tokens = [], [], []
    for _ in range(repeats):
        for prompt in prompts:
            forget_cache(generator)
            first = generator.generate(prompt, stop=(), max_new_tokens=1)
            forget_cache(generator)
            whole = generator.generate(prompt, stop=(), max_new_tokens=NEW_TOKENS)
            prefill.append(first.prompt_tokens / (first.ms / 1000))
            if whole.new_tokens > 1:
                decode.append((whole.new_tokens - 1) / ((whole.ms - first.ms) / 1000))
            prompt_tokens.append(first.prompt_tokens)
    return {
        "prompt_tokens": statistics.median(prompt_tokens),
        "prefill_tokens_per_s": statistics.median(prefill),
        "decode_tokens_per_s": statistics.median(decode),
    }


def measured_row(home: Path, backend: str, prompts: list[str], repeats: int) -> dict[str, float]:
    settings = LabSettings(home=home, backend=backend)
    placement = resolve_placement(settings)
    load_generator(settings, placement)
    started = time.perf_counter()
    generator = load_generator(settings, placement)
    load_s = time.perf_counter() - started
    generator.generate(prompts[0], stop=(), max_new_tokens=4)
    return {"load_s": load_s, **token_speeds(generator, prompts, repeats)}


def row_from_wheel(wheel: Path, home: Path, prompts: list[str], repeats: int) -> dict[str, float]:
    """The llama-cpp row for another build of llama-cpp-python: unpacked and imported ahead of the installed one."""
    site = Path(tempfile.mkdtemp(prefix="raglab-bench-wheel-"))
    zipfile.ZipFile(wheel).extractall(site)
    prompts_file = site / "prompts.json"
    prompts_file.write_text(json.dumps(prompts))
    command = [sys.executable, __file__, "--part", "row", "--home", str(home), "--prompts-file", str(prompts_file),
               "--repeats", str(repeats)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO_ROOT)])}
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True, cwd=REPO_ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def part_row(args) -> None:
    import llama_cpp

    row = measured_row(args.home, "llama-cpp", json.loads(args.prompts_file.read_text()), args.repeats)
    print(json.dumps({**row, "build": llama_cpp.llama_print_system_info().decode().strip()}))


def part_tokens(args) -> None:
    home = Path(tempfile.mkdtemp(prefix="raglab-bench-backends-"))
    prompts = demo_prompts(LabSettings(home=home), args.prompts)
    rows = {backend: measured_row(home, backend, prompts, args.repeats) for backend in ("transformers", "llama-cpp")}
    compared = {f"llama-cpp, compared build {n}": wheel for n, wheel in enumerate(args.compare_wheel, start=1)}
    rows.update({label: row_from_wheel(wheel, home, prompts, args.repeats) for label, wheel in compared.items()})
    print("| backend | weights | load s | prompt tokens | prefill tokens/s | decode tokens/s |")
    print("|---|---|---|---|---|---|")
    for backend, row in rows.items():
        weights = "fp32 (de-quantized)" if backend == "transformers" else "Q4_K_M GGUF"
        print(f"| {backend} | {weights} | {row['load_s']:.2f} | {row['prompt_tokens']:.0f} | "
              f"{row['prefill_tokens_per_s']:.0f} | {row['decode_tokens_per_s']:.1f} |")
    fast, slow = rows["llama-cpp"], rows["transformers"]
    print(f"\nllama-cpp / transformers: decode {fast['decode_tokens_per_s'] / slow['decode_tokens_per_s']:.1f}x "
          f"(target >= 6), prefill {fast['prefill_tokens_per_s'] / slow['prefill_tokens_per_s']:.2f}x (target >= 1), "
          f"load {slow['load_s'] / fast['load_s']:.1f}x faster")
    for label, wheel in compared.items():
        row = rows[label]
        print(f"{label}: {wheel}, built with: {row['build']}\ninstalled llama-cpp / {label}: prefill "
              f"{fast['prefill_tokens_per_s'] / row['prefill_tokens_per_s']:.2f}x, decode "
              f"{fast['decode_tokens_per_s'] / row['decode_tokens_per_s']:.2f}x")


def timed_eval(home: Path, limit: int, extra: list[str], env: dict[str, str]) -> float:
    command = [sys.executable, "-m", "app.cli", "eval", "--qa", str(DEMO_FILE), "--kb", "demo", "--strategies", "all",
               "--limit", str(limit), "--json", *extra]
    started = time.perf_counter()
    subprocess.run(command, env={**os.environ, "RAGLAB_HOME": str(home), **env}, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO_ROOT)
    return time.perf_counter() - started


def part_eval(args) -> None:
    sys.path.insert(0, str(REPO_ROOT))
    from tests.servers import LlamaCppServer

    home = Path(tempfile.mkdtemp(prefix="raglab-bench-eval-"))
    ingest_paths(LabSettings(home=home), "demo", [DEMO_FILE])
    answers = args.limit * 13
    timings = {}
    for backend in ("transformers", "llama-cpp"):
        timings[f"{backend}, in process"] = timed_eval(home, args.limit, ["--backend", backend], {})
        print(f"{backend}: {timings[f'{backend}, in process']:.0f} s", flush=True)
    server = LlamaCppServer(embedded_gguf(LabSettings().model_cache), {"gemma": {"logits_all": False, "n_threads": 2}},
                            home)
    server.start()
    try:
        for concurrency in (1, 8):
            label = f"openai → llama.cpp server, concurrency {concurrency}"
            timings[label] = timed_eval(
                home, args.limit,
                ["--backend", "openai", "--generator-url", server.url, "--generator", "gemma",
                 "--concurrency", str(concurrency)], {},
            )
            print(f"{label}: {timings[label]:.0f} s", flush=True)
    finally:
        server.stop()
    print(f"\n{args.limit} demo questions x 13 strategies = {answers} answers, default metrics\n")
    print("| generator | wall time | answers/s |")
    print("|---|---|---|")
    for label, seconds in timings.items():
        print(f"| {label} | {seconds / 60:.1f} min | {answers / seconds:.3f} |")
    in_process = timings["transformers, in process"] / timings["llama-cpp, in process"]
    served = timings["openai → llama.cpp server, concurrency 1"] / timings["openai → llama.cpp server, concurrency 8"]
    print(f"\nllama-cpp in process vs transformers: {in_process:.1f}x faster (target >= 3)")
    print(f"server, concurrency 8 vs 1: {served:.2f}x the answers/s (target >= 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["tokens", "eval", "all", "row"], default="tokens",
                        help="row: one llama-cpp row, what --compare-wheel runs in a child process")
    parser.add_argument("--prompts", type=int, default=3, help="demo prompts per repeat (tokens part)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--limit", type=int, default=20, help="demo questions (eval part)")
    parser.add_argument("--compare-wheel", type=Path, action="append", default=[],
                        help="another llama-cpp-python wheel to measure beside the installed one (tokens part)")
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--prompts-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part == "row":
        part_row(args)
        return
    print(machine())
    if args.part in ("tokens", "all"):
        part_tokens(args)
    if args.part in ("eval", "all"):
        part_eval(args)


if __name__ == "__main__":
    main()
