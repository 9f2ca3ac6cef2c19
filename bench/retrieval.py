"""Supporting-paragraph recall@2/@5/@10 and MRR of every retrieving strategy on the 20 demo questions.

The demo HotpotQA sample is ingested into a knowledge base in a temporary lab home (each paragraph
fits one chunk, so a chunk's title names its paragraph). A question's gold is the set of titles in
its `supporting_facts`; its recall@k is the fraction of gold titles among the titles of the first k
passages, in the order the strategy returned them; its reciprocal rank is 1 / the rank of the first
passage with a gold title (0 when none of the 10 has one). top_k is raised to 10 through the settings.

Strategies come from the registry, plugins and later additions included. By default every strategy
runs in full (`answer`), so latency is end to end. With --no-generate, strategies that offer
`retrieve` (lab/context.py `RetrievingStrategy`) skip the final generation, which recall does not
need; the others still run `answer`. A strategy without `retrieve` that returns no passages
(no-retrieval) is skipped after its first question; one that retrieves selectively (self-rag) scores 0
where it did not. One that raises is reported by name while the rest go on. Generated answers are
scored against the gold answer by exact match and token F1 after SQuAD normalization
(`eval/answer_metrics.py`).

    .venv/bin/python bench/retrieval.py [--strategies bm25,hybrid] [--no-generate] [--questions 20]
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import lab  # noqa: F401
from app.running import check_question
from eval.answer_metrics import exact_match, f1_score
from lab.context import LabContext, RetrievingStrategy, build_context
from lab.core import LabSettings, Passage
from lab.ingestion import DEMO_FILE, ingest_paths
from strategies import available_strategies, get_strategy

CUTOFFS = (2, 5, 10)
KB_NAME = "hotpotqa"


def recall_at(passages: list[Passage], gold: set[str], k: int) -> float:
    return len(gold & {p.doc_title for p in passages[:k]}) / len(gold)


def reciprocal_rank(passages: list[Passage], gold: set[str]) -> float:
    return next((1.0 / rank for rank, p in enumerate(passages, start=1) if p.doc_title in gold), 0.0)


def run_one(strategy, question: str, ctx: LabContext, generate: bool) -> tuple[list[Passage], float, str | None]:
    """The strategy's passages in rank order, the time it took in ms, and its answer (None if not generated)."""
    started = time.perf_counter()
    if not generate and isinstance(strategy, RetrievingStrategy):
        passages, text = list(strategy.retrieve(question, ctx).passages), None
    else:
        answer = strategy.answer(question, ctx)
        passages, text = list(answer.passages), answer.text
    return passages, (time.perf_counter() - started) * 1000, text


def bench_strategy(name: str, records: list[dict], ctx: LabContext, generate: bool) -> list[dict] | str:
    """One row per question (type, recall@k, reciprocal rank, ms), or why the strategy was left out."""
    strategy = get_strategy(name)
    rows = []
    for position, record in enumerate(records):
        gold = {title for title, _ in record["supporting_facts"]}
        try:
            passages, ms, text = run_one(strategy, check_question(record["question"]), ctx, generate)
        except Exception as error:  # one failing strategy is reported by name; the others go on
            return f"failed on question {position + 1}: {type(error).__name__}: {error}"
        if position == 0 and not passages and not isinstance(strategy, RetrievingStrategy):
            return "returns no passages (does not retrieve)"
        row = {"type": record["type"], "rr": reciprocal_rank(passages, gold), "ms": ms}
        row.update({f"r@{k}": recall_at(passages, gold, k) for k in CUTOFFS})
        if text is not None:
            row.update(em=exact_match(text, record["answer"]), f1=f1_score(text, record["answer"]))
        rows.append(row)
        print(f"  {name:<14} q{position + 1:>2} r@5={row['r@5']:.2f} rr={row['rr']:.2f} {ms:8.0f} ms", file=sys.stderr)
    return rows


def mean(rows: list[dict], key: str) -> float:
    return statistics.fmean(row[key] for row in rows) if rows else float("nan")


def summary(rows: list[dict] | str) -> str:
    if isinstance(rows, str):
        return f"skipped: {rows}"
    recalls = " ".join(f"R@{k}={mean(rows, f'r@{k}'):.3f}" for k in CUTOFFS)
    answers = f" EM={mean(rows, 'em'):.3f} F1={mean(rows, 'f1'):.3f}" if rows and "em" in rows[0] else ""
    return f"{recalls} MRR={mean(rows, 'rr'):.3f}{answers} mean {statistics.fmean(row['ms'] for row in rows):.0f} ms/question"


def print_tables(results: dict[str, list[dict] | str], generate: bool) -> None:
    mode = "answer (end to end)" if generate else "retrieve only where offered"
    print(f"\nSupporting-paragraph retrieval, top_k=10, latency per question: {mode}")
    answers = f" {'EM':>6} {'F1':>6}" if generate else ""
    print(f"{'strategy':<14} {'n':>3} {'R@2':>6} {'R@5':>6} {'R@10':>6} {'MRR':>6}{answers} {'mean ms':>9} {'p50 ms':>8} {'max ms':>8}")
    for name, rows in results.items():
        if isinstance(rows, str):
            print(f"{name:<14} skipped: {rows}")
            continue
        latencies = [row["ms"] for row in rows]
        scored = f" {mean(rows, 'em'):>6.3f} {mean(rows, 'f1'):>6.3f}" if generate else ""
        print(
            f"{name:<14} {len(rows):>3} {mean(rows, 'r@2'):>6.3f} {mean(rows, 'r@5'):>6.3f} {mean(rows, 'r@10'):>6.3f} "
            f"{mean(rows, 'rr'):>6.3f}{scored} {statistics.fmean(latencies):>9.0f} {statistics.median(latencies):>8.0f} "
            f"{max(latencies):>8.0f}"
        )
    print("\nBy question type (R@5 / MRR)")
    types = sorted({row["type"] for rows in results.values() if not isinstance(rows, str) for row in rows})
    counts = defaultdict(int)
    for rows in results.values():
        if not isinstance(rows, str):
            for row in rows:
                counts[row["type"]] += 1
            break
    print(f"{'strategy':<14} " + " ".join(f"{f'{t} (n={counts[t]})':>24}" for t in types))
    for name, rows in results.items():
        if isinstance(rows, str):
            continue
        cells = []
        for question_type in types:
            typed = [row for row in rows if row["type"] == question_type]
            cells.append(f"{mean(typed, 'r@5'):.3f} / {mean(typed, 'rr'):.3f}")
        print(f"{name:<14} " + " ".join(f"{cell:>24}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", default="all", help="Comma-separated names, or 'all' (the default).")
    parser.add_argument("--no-generate", action="store_true", help="Skip the final answer where a strategy can.")
    parser.add_argument("--questions", type=int, default=20, help="How many demo questions (at most 20).")
    args = parser.parse_args()

    records = json.loads(DEMO_FILE.read_text())[: args.questions]
    known = list(available_strategies())
    names = known if args.strategies == "all" else [n.strip() for n in args.strategies.split(",") if n.strip()]
    for name in names:
        get_strategy(name)
    with tempfile.TemporaryDirectory() as home:
        settings = LabSettings(home=Path(home), top_k=10)
        started = time.perf_counter()
        report = ingest_paths(settings, KB_NAME, [DEMO_FILE])
        print(f"ingested {report.documents_added} paragraphs as {report.chunks_added} chunks "
              f"in {time.perf_counter() - started:.0f} s")
        ctx = build_context(settings, KB_NAME)
        results = {}
        for name in names:
            results[name] = bench_strategy(name, records, ctx, generate=not args.no_generate)
            print(f"{name}: {summary(results[name])}", flush=True)
        ctx.kb.close()
    print_tables(results, generate=not args.no_generate)


if __name__ == "__main__":
    main()
