"""The chunking study on both bundled demos: every chunker × traditional, hybrid and graph, one run per corpus.

Prints each corpus's chunker table in Markdown (docs/chunking.md's): chunks, mean / p95 chunk tokens, ingest
time, index size, recall@5, MRR and answer F1 over all three strategies' answers with 95% bootstrap
intervals, seconds per question, and where each chunker wins and loses on that corpus. Knowledge bases
and runs live in a temporary lab home, so every chunker is built from scratch and its ingest time is real.

    .venv/bin/python bench/chunking.py [--chunkers fixed,recursive] [--strategies traditional] [--limit N]
"""

import argparse
import tempfile
from pathlib import Path

import lab  # noqa: F401
from eval.qa_sets import load_qa_set
from eval.reports import CHUNKER_COLUMNS, chunker_cells
from eval.run_analysis import analyze_run
from eval.run_store import RunStore, run_store_path
from eval.sweep import chunker_table, run_study
from lab.core import LabSettings
from lab.core.placement import resolve_placement
from lab.ingestion import BUNDLED_DEMOS
from lab.kb import CHUNKER_NAMES, load_embedder
from lab.llm import load_generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=",".join(BUNDLED_DEMOS))
    parser.add_argument("--chunkers", default="fixed,semantic,recursive,structure,llm")
    parser.add_argument("--strategies", default="traditional,hybrid,graph")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    chunkers = [name for name in args.chunkers.split(",") if name in CHUNKER_NAMES]
    with tempfile.TemporaryDirectory() as home:
        settings = LabSettings(home=Path(home))
        placement = resolve_placement(settings)
        embedder, generator = load_embedder(settings, placement), load_generator(settings, placement)
        store = RunStore(run_store_path(settings.home))
        for corpus in args.corpora.split(","):
            demo = BUNDLED_DEMOS[corpus]
            qa_set = load_qa_set(demo.questions, limit=args.limit)
            outcome, _ = run_study(
                settings, embedder, generator, qa_set, list(demo.sources), chunkers, args.strategies.split(","),
                ["retrieval", "answer"], store, on_progress=lambda f, m: print(f"[{corpus} {f:4.0%}] {m}", flush=True),
            )
            table = chunker_table(analyze_run(store, outcome.run_id, seed=settings.seed), seed=settings.seed)
            print(f"\n{demo.label}: {len(qa_set.items)} questions × {args.strategies} (run {outcome.run_id})\n")
            print("| " + " | ".join(CHUNKER_COLUMNS) + " |")
            print("| --- |" + " --- |" * (len(CHUNKER_COLUMNS) - 1))
            for row in table:
                print("| " + " | ".join(chunker_cells(row)) + " |")
            print(flush=True)
        store.close()


if __name__ == "__main__":
    main()
