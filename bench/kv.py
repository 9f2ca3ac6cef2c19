"""The KV-cache lab at bench sizes: cache on/off, memory against context, cache modes, theory, prefix reuse.

Runs the same experiments as `raglab kv` (app/kv_lab.py) on the HotpotQA demo (built in a temporary lab
home), one run, and prints docs/kv-cache.md's tables in Markdown: the speedup of the cache at each length, the
bytes measured beside theory at each context and on each backend, each cache mode's bytes, speed and
agreement with the dynamic cache, the theory calculator, and prefix reuse per strategy. With `--json`
the raw rows are written too. On CUDA the same run covers bf16 and a long context (pass --contexts).

    .venv/bin/python bench/kv.py [--new-tokens 32,64,128,256] [--contexts 128,512,1024,2048,4096] [--questions 8]
"""

import argparse
import json
import tempfile
from pathlib import Path

import lab  # noqa: F401
from app.kv_lab import KVLabReport, KVPlan, measuring_generator, run_kv_lab
from eval.qa_sets import load_qa_set
from lab.context import build_context
from lab.core import LabSettings
from lab.ingestion import BUNDLED_DEMOS, DEMO_KB, build_bundled_demo

MIB = 2**20


def numbers(spec: str) -> tuple[int, ...]:
    return tuple(int(part) for part in spec.split(",") if part.strip())


def print_tables(report: KVLabReport) -> None:
    device = ", ".join(f"{g['backend']} on {g['device']} ({g.get('dtype', '?')})" for g in report.generators)
    print(f"\nMeasured on: {device}\n")
    print("| new tokens | with cache (s) | without (s) | speedup | KV measured (MiB) | KV theory (MiB) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = report.experiment("cache_on_off")
    for on in [row for row in rows if row.mode == "cache on"]:
        off = next(row for row in rows if row.mode == "cache off" and row.new_tokens == on.new_tokens)
        print(f"| {on.new_tokens} | {on.ms / 1000:.2f} | {off.ms / 1000:.2f} | {on.detail['speedup']:.2f}x | "
              f"{on.kv_bytes_measured / MIB:.2f} | {on.kv_bytes_theory / MIB:.2f} |")
    print("\n| backend · mode | context tokens | measured (MiB) | theory (MiB) | difference |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in report.experiment("memory"):
        measured = "-" if row.kv_bytes_measured is None else f"{row.kv_bytes_measured / MIB:.2f}"
        difference = "-" if row.kv_bytes_measured is None else (
            f"{(row.kv_bytes_measured - row.kv_bytes_theory) / row.kv_bytes_theory:+.2%}")
        print(f"| {row.label} · {row.mode} | {row.context_tokens} | {measured} | {row.kv_bytes_theory / MIB:.2f} | {difference} |")
    quality = {row.mode: row for row in report.experiment("modes") if row.label != "memory"}
    memory = [row for row in report.experiment("modes") if row.label == "memory"]
    dynamic = next(row for row in memory if row.mode == "dynamic")
    print(f"\n| mode | MiB at {dynamic.context_tokens} tokens | vs dynamic | theory (MiB) | tokens/s on the prompts | "
          "same answer | same tokens |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in memory:
        q = quality[row.mode]
        print(f"| {row.mode} | {row.kv_bytes_measured / MIB:.2f} | {row.kv_bytes_measured / dynamic.kv_bytes_measured:.2f}x | "
              f"{row.kv_bytes_theory / MIB:.2f} | {q.tokens_per_s:.1f} | {q.answer_agreement:.0%} | {q.agreement:.0%} |")
    print("\n| model | dtype | KV heads / heads | sliding layers | bytes per token | cache at "
          f"{report.experiment('theory')[0].context_tokens} tokens (GB) | longest context in 24 GiB after weights |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for row in report.experiment("theory"):
        longest = next(value for key, value in row.detail.items() if key.startswith("longest_context"))
        print(f"| {row.label} | {row.mode} | {row.detail['kv_heads']}/{row.detail['attention_heads']} | "
              f"{row.detail['sliding_layers']}/{row.detail['layers']} | {row.detail['bytes_per_token']:,} | "
              f"{row.kv_bytes_theory / 1e9:.3f} | {longest:,} |")
    print("\n| strategy | LLM calls | prompt tokens sent | shared prefix | prompt reading (s) | with reuse (s) | saved |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in [row for row in report.experiment("prefix_reuse") if row.label != "failed"]:
        d = row.detail
        print(f"| {row.mode} | {d['calls']} | {row.context_tokens:,} | {d['share']:.0%} | {d['ms_without_reuse'] / 1000:.1f} | "
              f"{row.ms / 1000:.1f} | {d['ms_saved'] / d['ms_without_reuse']:.0%} |")
    print()
    for line in report.findings:
        print(f"- {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", default="32,64,128,256")
    parser.add_argument("--contexts", default="128,512,1024,2048,4096")
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--prefix-questions", type=int, default=2)
    parser.add_argument("--strategies", default="traditional,hyde,rerank,agentic,self-rag,crag")
    parser.add_argument("--json", type=Path, help="Also write the raw rows here.")
    args = parser.parse_args()
    plan = KVPlan(new_tokens=numbers(args.new_tokens), contexts=numbers(args.contexts), mode_questions=args.questions,
                  prefix_strategies=tuple(args.strategies.split(",")), prefix_questions=args.prefix_questions)
    with tempfile.TemporaryDirectory() as home:
        settings = LabSettings(home=Path(home), context_tokens=max(4096, max(plan.contexts) + 64))
        build_bundled_demo(settings, DEMO_KB)
        ctx = build_context(settings, DEMO_KB)
        questions = [item.question for item in load_qa_set(BUNDLED_DEMOS[DEMO_KB].questions).items]
        report = run_kv_lab(ctx, measuring_generator(ctx), questions, plan,
                            on_progress=lambda fraction, message: print(f"[{fraction:4.0%}] {message}", flush=True))
    print_tables(report)
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2))


if __name__ == "__main__":
    main()
