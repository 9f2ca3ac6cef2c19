"""Do generated questions rank strategies the way human-written questions do?

For each bundled demo: a test set is generated from the demo's knowledge base alone (`lab.testsets`, no
human question used), then every strategy answers both the generated set and the demo's human-written
questions, and the two rankings of the strategies are compared by Spearman rank correlation, on recall@5
(the retrieving strategies only: no-retrieval's recall is 0 on both by construction) and on answer F1 (all
strategies, no-retrieval included). Also printed: the generation time, the keep rate and the rejection
counts by reason, and each strategy's scores by kind of generated item, which show what the generated set
flatters. Knowledge bases are built in a temporary lab home with the default settings (select mode, top_k 5).

    .venv/bin/python bench/testsets.py [--corpora demo,docs-demo] [--size 60] [--seed 0]
        [--strategies no-retrieval,traditional,...] [--keep DIR]

`--keep DIR` writes each generated set there (DIR/CORPUS.jsonl), for reading the items by hand.
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from scipy.stats import spearmanr

import lab  # noqa: F401
from eval.answer_metrics import f1_score
from eval.qa_sets import QAItem, load_qa_set
from lab.context import LabContext, build_context
from lab.core import LabSettings
from lab.ingestion import BUNDLED_DEMOS, build_bundled_demo
from lab.testsets import GenerationRequest, build_testset, write_testset
from strategies import get_strategy

STRATEGIES = ("no-retrieval", "traditional", "bm25", "hybrid", "hyde", "rerank", "graph", "agentic", "crag")


def scores(name: str, items: tuple[QAItem, ...], ctx: LabContext, label: str) -> list[tuple[float, float]]:
    """(recall@5 of the gold documents, answer F1) per item; a failing strategy scores 0 where it fails."""
    strategy = get_strategy(name)
    rows = []
    for position, item in enumerate(items):
        try:
            answer = strategy.answer(item.question, ctx)
        except Exception as error:  # one failing answer is reported and scored 0; the run goes on
            print(f"  {name} {label} q{position + 1}: {type(error).__name__}: {error}", file=sys.stderr)
            rows.append((0.0, 0.0))
            continue
        gold = set(item.reference_doc_titles)
        found = {p.doc_title for p in answer.passages[:5]}
        rows.append((len(gold & found) / len(gold) if gold else 0.0, f1_score(answer.text, item.reference)))
        print(f"  {name:<13} {label:<9} q{position + 1:>2} R@5={rows[-1][0]:.2f} F1={rows[-1][1]:.2f}", file=sys.stderr, flush=True)
    return rows


def mean(rows: list[tuple[float, float]], column: int) -> float:
    return statistics.fmean(row[column] for row in rows) if rows else float("nan")


def ranks(values: list[float]) -> list[int]:
    order = sorted(range(len(values)), key=lambda i: -values[i])
    result = [0] * len(values)
    for rank, index in enumerate(order, start=1):
        result[index] = rank
    return result


def report(corpus: str, names: list[str], human: dict, generated: dict, kinds: list[str]) -> None:
    recall_h, recall_g = [mean(human[n], 0) for n in names], [mean(generated[n], 0) for n in names]
    f1_h, f1_g = [mean(human[n], 1) for n in names], [mean(generated[n], 1) for n in names]
    retrieving = [i for i, n in enumerate(names) if n != "no-retrieval"]
    print(f"\n{corpus}: strategies on the human-written questions and on the generated set")
    print(f"{'strategy':<13} {'R@5 human':>9} {'R@5 gen':>8} {'F1 human':>9} {'F1 gen':>7}  rank R@5 h/g  rank F1 h/g")
    recall_ranks_h = ranks([recall_h[i] for i in retrieving])
    recall_ranks_g = ranks([recall_g[i] for i in retrieving])
    f1_ranks_h, f1_ranks_g = ranks(f1_h), ranks(f1_g)
    for i, name in enumerate(names):
        recall_rank = (f"{recall_ranks_h[retrieving.index(i)]:>3} / {recall_ranks_g[retrieving.index(i)]:<3}"
                       if i in retrieving else "  -      ")
        print(f"{name:<13} {recall_h[i]:>9.3f} {recall_g[i]:>8.3f} {f1_h[i]:>9.3f} {f1_g[i]:>7.3f}  "
              f"{recall_rank:>12}  {f1_ranks_h[i]:>4} / {f1_ranks_g[i]:<3}")
    rho_recall = spearmanr([recall_h[i] for i in retrieving], [recall_g[i] for i in retrieving]).statistic
    rho_f1 = spearmanr(f1_h, f1_g).statistic
    print(f"Spearman rank correlation: recall@5 {rho_recall:.2f} ({len(retrieving)} retrieving strategies), "
          f"answer F1 {rho_f1:.2f} ({len(names)} strategies)")
    by_kind: dict[str, list[int]] = defaultdict(list)
    for position, kind in enumerate(kinds):
        by_kind[kind].append(position)
    print("generated set by kind, R@5 / F1: " + ", ".join(f"{k} {len(v)}" for k, v in by_kind.items()))
    for name in names:
        cells = [f"{kind} {mean([generated[name][p] for p in positions], 0):.2f}/{mean([generated[name][p] for p in positions], 1):.2f}"
                 for kind, positions in by_kind.items()]
        print(f"  {name:<13} " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=",".join(BUNDLED_DEMOS), help=f"Comma-separated, of: {', '.join(BUNDLED_DEMOS)}.")
    parser.add_argument("--size", type=int, default=60, help="Items per generated set.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="Comma-separated strategy names.")
    parser.add_argument("--keep", type=Path, default=None, help="Write each generated set to DIR/CORPUS.jsonl.")
    args = parser.parse_args()
    names = [name.strip() for name in args.strategies.split(",") if name.strip()]
    for name in names:
        get_strategy(name)
    with tempfile.TemporaryDirectory() as home:
        settings = LabSettings(home=Path(home))
        for corpus in (c.strip() for c in args.corpora.split(",") if c.strip()):
            build_bundled_demo(settings, corpus)
            ctx = build_context(settings, corpus)
            started = time.perf_counter()
            testset = build_testset(ctx, GenerationRequest(size=args.size, seed=args.seed))
            seconds = time.perf_counter() - started
            path = (args.keep or Path(home)) / f"{corpus}.jsonl"
            write_testset(testset, path)
            summary = testset.summary(path)
            print(f"\n{corpus}: generated {summary['kept']} items in {seconds:.0f} s ({seconds / 60:.1f} min); "
                  f"kept {summary['kept']} of {summary['drafted']} questions drafted "
                  f"({summary['kept'] / max(1, summary['drafted']):.1%}; {summary['facts_without_question']} facts "
                  f"gave no question); kinds {summary['kinds']}; rejected {summary['rejected']}", flush=True)
            human_items = load_qa_set(BUNDLED_DEMOS[corpus].questions).items
            generated_items = load_qa_set(path).items
            human = {name: scores(name, human_items, ctx, "human") for name in names}
            generated = {name: scores(name, generated_items, ctx, "generated") for name in names}
            report(corpus, names, human, generated, [item.kind for item in testset.items])
            ctx.kb.close()


if __name__ == "__main__":
    main()
