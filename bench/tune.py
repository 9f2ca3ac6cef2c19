"""Does tuning help where it was not tuned? Defaults against the tuned configuration on held-out questions.

For each corpus and strategy: `eval.tuning.tune` splits the corpus's human-written questions once (seeded,
stratified by type), searches on the tuning part for `--minutes` (or `--trials`), and answers the held-out
part with the defaults and with the best configuration. Printed: one Markdown row per corpus and strategy
with held-out answer F1 and recall@k (95% bootstrap intervals), the paired permutation test's p-value on F1,
trials and minutes, what was kept (the search's best trial, or the defaults when the best did not beat them
clearly on the tuning questions) and the best trial's parameters with its p-value against the defaults there. Knowledge bases are built in a temporary lab home (or `--home`,
kept) with the default settings.

    .venv/bin/python bench/tune.py [--corpora demo,docs-demo,coverage-docs] [--strategies traditional,graph,agentic]
        [--minutes 30 | --trials N] [--seed 0] [--home DIR]
"""

import argparse
import json
import tempfile
from pathlib import Path

import lab  # noqa: F401
from eval.qa_sets import load_qa_set
from eval.tuning import TuneRequest, tune
from lab.context import build_context
from lab.core import LabSettings
from lab.ingestion import EVALUATION_CORPORA, build_bundled_demo
from lab.kb import knowledge_base_names


def interval(figures: dict, metric: str) -> str:
    low, high = figures[f"{metric}_ci"]
    return f"{figures[metric]:.3f} [{low:.2f}, {high:.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="demo,docs-demo,coverage-docs", help=f"Of: {', '.join(EVALUATION_CORPORA)}.")
    parser.add_argument("--strategies", default="traditional,graph,agentic")
    parser.add_argument("--minutes", type=float, default=30.0, help="Search time per corpus and strategy.")
    parser.add_argument("--trials", type=int, default=None, help="Finished trials instead of a time limit.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--home", type=Path, default=None, help="Lab home to build in and keep (default: a temporary one).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        settings = LabSettings(home=args.home or Path(scratch))
        print("| corpus | strategy | held-out items | defaults F1 | tuned F1 | defaults R@k | tuned R@k | p (F1) "
              "| trials (pruned) | minutes | kept | search's best (tuning p) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |", flush=True)
        for corpus in (c.strip() for c in args.corpora.split(",") if c.strip()):
            if corpus not in knowledge_base_names(settings.home):
                build_bundled_demo(settings, corpus)
            ctx = build_context(settings, corpus)
            qa_set = load_qa_set(EVALUATION_CORPORA[corpus].questions)
            for strategy in (s.strip() for s in args.strategies.split(",") if s.strip()):
                request = TuneRequest(strategy, trials=args.trials, minutes=None if args.trials else args.minutes,
                                      seed=args.seed)
                result = tune(ctx, qa_set, request)
                row = result.to_json()
                default, tuned = row["default"], row["tuned"]
                print(f"| {corpus} | {strategy} | {row['held_out_items']} | {interval(default, 'answer_f1')} | "
                      f"{interval(tuned, 'answer_f1')} | {interval(default, 'recall_at_k')} | "
                      f"{interval(tuned, 'recall_at_k')} | {row['p_value']} | {row['trials']} ({row['pruned']}) | "
                      f"{row['seconds'] / 60:.1f} | {'defaults' if row['kept_defaults'] else 'best trial'} | "
                      f"`{json.dumps(row['search_best']['params'])}` ({row['tuning_p_value']}) |", flush=True)
            ctx.kb.close()


if __name__ == "__main__":
    main()
