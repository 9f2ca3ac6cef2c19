"""The grid search behind `WEIGHTS` (lab/steps/selecting.py): answer selection's ranking weights, tuned on one
half of the bundled demos' questions and read on the other.

Each demo (HotpotQA, 20 questions; the Click docs, 33) is built into a knowledge base in a temporary lab
home with the default settings (top_k 5). For every question, `traditional` retrieves, the model writes its
free answer once (the read step in `generate` mode), and every candidate answer is scored once, with and
without the passages (`score_candidates`), so each candidate's features (likelihood, closed-book
likelihood, answer-type match, agreement, passage rank, closeness, overlap with the written answer) are
cached. Scoring is the cost; the grid over the cached features costs seconds. A weighting picks, per
question, the candidate with the highest `weighted_score` (first on ties, as the ranking's stable sort
does), or the written answer when the passages offer no candidate, and is judged by token F1
(`eval/answer_metrics.py`) against the gold answer.

The search runs twice: tuned on the even-numbered questions (positions 0, 2, 4, ... of each demo, pooled,
each question counting once) and read on the odd ones, then the reverse. Many weightings tie on a tuning
half; the one kept is the one with the fewest priors switched on, then the smallest weights. The current
`WEIGHTS` is read on both halves beside them.

    .venv/bin/python bench/ranking_weights.py [--grid small|full] [--corpora demo,docs-demo] [--questions N]
"""

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from dataclasses import astuple, dataclass, fields, replace
from pathlib import Path

import numpy as np

import lab  # noqa: F401
from eval.answer_metrics import f1_score
from eval.qa_sets import QAItem, load_qa_set
from lab.context import LabContext, build_context
from lab.core import LabSettings, Trace
from lab.ingestion import BUNDLED_DEMOS, EVALUATION_CORPORA, build_bundled_demo
from lab.llm.prompts import answer_prompt
from lab.steps import read_passages
from lab.steps.selecting import WEIGHTS, CandidateFeatures, RankingWeights, score_candidates, weighted_score
from strategies import get_strategy

GRIDS: dict[str, dict[str, tuple[float, ...]]] = {
    "small": {
        "calibration": (0.0, 0.5),
        "answer_type": (0.0, 1.0),
        "agreement": (0.0, 1.0, 2.0),
        "passage_rank": (0.0, 0.5),
        "closeness": (0.0, 3.0, 6.0, 9.0),
        "generation": (0.0, 2.0),
    },
    "full": {
        "calibration": (0.0, 0.25, 0.5, 0.75, 1.0),
        "answer_type": (0.0, 0.5, 1.0, 2.0, 4.0),
        "agreement": (0.0, 0.5, 1.0, 2.0, 4.0),
        "passage_rank": (0.0, 0.25, 0.5, 1.0, 2.0),
        "closeness": (0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0),
        "generation": (0.0, 1.0, 2.0, 4.0, 8.0),
    },
}
"""Values tried per weight, in nats (calibration: share of the closed-book likelihood). Both hold `WEIGHTS`."""
NAMES = tuple(f.name for f in fields(RankingWeights))


@dataclass(frozen=True)
class ScoredQuestion:
    """One question's cached features: what any weighting needs to pick its answer, and every pick's F1."""

    corpus: str
    position: int
    features: tuple[CandidateFeatures, ...]
    candidate_f1: tuple[float, ...]
    written_f1: float
    """F1 of the written answer, which select mode keeps when the passages offer no candidate."""


def score_corpus(corpus: str, items: tuple[QAItem, ...], ctx: LabContext) -> list[ScoredQuestion]:
    strategy = get_strategy("traditional")
    writing = replace(ctx, settings=ctx.settings.model_copy(update={"answer_mode": "generate"}))
    scored = []
    for position, item in enumerate(items):
        started = time.perf_counter()
        passages = strategy.retrieve(item.question, ctx).passages
        trace = Trace()
        with trace.stage("generate"):
            written = read_passages(item.question, passages, writing, trace)
            prompt = answer_prompt(item.question, passages, ctx.settings.answer_template)
            features = score_candidates(item.question, passages, prompt, ctx, trace, written, closed_book=True)
        scored.append(ScoredQuestion(
            corpus, position, tuple(features), tuple(f1_score(f.text, item.reference) for f in features),
            f1_score(written, item.reference),
        ))
        print(f"  {corpus:<10} q{position + 1:>2} {len(features):>3} candidates {time.perf_counter() - started:5.1f} s",
              file=sys.stderr, flush=True)
    return scored


def weight_grid(name: str) -> np.ndarray:
    """Every weighting of the grid, one row each, columns in `RankingWeights` field order."""
    return np.array(list(itertools.product(*(GRIDS[name][field] for field in NAMES))), dtype=float)


def picked_f1(question: ScoredQuestion, grid: np.ndarray) -> np.ndarray:
    """F1 of the answer each weighting picks for this question: `weighted_score` in its own order of
    operations, over every weighting at once, so a near tie breaks as the ranking breaks it."""
    if not question.features:
        return np.full(len(grid), question.written_f1)
    column = {name: grid[:, [NAMES.index(name)]] for name in NAMES}
    feature = {f.name: np.array([getattr(c, f.name) for c in question.features], dtype=float)
               for f in fields(CandidateFeatures) if f.name != "text"}
    scores = feature["likelihood"] - column["calibration"] * feature["closed_book"]
    for name in ("answer_type", "agreement", "closeness", "generation"):
        scores = scores + column[name] * feature[name]
    scores = scores - column["passage_rank"] * feature["passage_rank"]
    return np.asarray(question.candidate_f1)[scores.argmax(axis=1)]


def current_f1(question: ScoredQuestion, weights: RankingWeights) -> float:
    """F1 of the candidate the lab's own ranking picks with `weights` (the check on `picked_f1`)."""
    if not question.features:
        return question.written_f1
    scores = [weighted_score(f, weights) for f in question.features]
    return question.candidate_f1[scores.index(max(scores))]


def best_row(f1_by_row: np.ndarray, grid: np.ndarray) -> tuple[int, int]:
    """The kept weighting among those with the top F1 (fewest priors on, then the smallest), and how many tie."""
    tied = np.flatnonzero(np.isclose(f1_by_row, f1_by_row.max(), rtol=0, atol=1e-12))
    simplest = min(tied, key=lambda row: ((grid[row] != 0).sum(), grid[row].sum(), tuple(grid[row])))
    return int(simplest), len(tied)


def mean(values) -> float:
    values = list(values)
    return statistics.fmean(values) if values else float("nan")


def print_table(questions: list[ScoredQuestion], grid: np.ndarray, corpora: list[str]) -> None:
    picks = np.array([picked_f1(q, grid) for q in questions])
    halves = {
        "even": [q.position % 2 == 0 for q in questions],
        "odd": [q.position % 2 == 1 for q in questions],
        "all": [True] * len(questions),
    }
    weights_header = " ".join(f"{name[:6]:>6}" for name in NAMES)
    read_header = " ".join(f"{corpus[:9]:>9}" for corpus in corpora)

    def held_out(rows: list[float], half: str) -> str:
        chosen = [i for i, inside in enumerate(halves[half]) if inside]
        per_corpus = [mean(rows[i] for i in chosen if questions[i].corpus == corpus) for corpus in corpora]
        return " ".join(f"{value:>9.3f}" for value in per_corpus) + f" {mean(rows[i] for i in chosen):>7.3f}"

    print(f"\n{len(questions)} questions ({', '.join(corpora)}), traditional retrieval, top_k 5; "
          f"{len(grid)} weightings. F1 is token F1 of the selected answer.")
    print(f"{'tuned on':<9} {weights_header}  {'tune F1':>7} {'ties':>5}  {'read on':<7} {read_header} {'pooled':>7}")
    for tune, read in (("even", "odd"), ("odd", "even")):
        inside = np.array(halves[tune])
        row, ties = best_row(picks[inside].mean(axis=0), grid)
        values = " ".join(f"{value:>6g}" for value in grid[row])
        print(f"{tune:<9} {values}  {picks[inside, row].mean():>7.3f} {ties:>5}  "
              f"{read:<7} {held_out(list(picks[:, row]), read)}")
    current = [current_f1(q, WEIGHTS) for q in questions]
    on_grid = np.flatnonzero((grid == np.array(astuple(WEIGHTS))).all(axis=1))
    if len(on_grid) and not np.array_equal(picks[:, on_grid[0]], current):
        raise RuntimeError("The grid's picks for WEIGHTS differ from weighted_score's: picked_f1 no longer "
                           "follows lab/steps/selecting.py's weighted_score; make its operations match again.")
    values = " ".join(f"{value:>6g}" for value in astuple(WEIGHTS))
    for half in halves:
        print(f"{'WEIGHTS':<9} {values}  {'':>7} {'':>5}  {half:<7} {held_out(current, half)}")
    print()
    for half, inside in halves.items():
        f1_by_row = picks[np.array(inside)].mean(axis=0)
        own = mean(value for value, keep in zip(current, inside) if keep)
        better = int((f1_by_row > own + 1e-12).sum())
        print(f"{half + ' questions:':<15} WEIGHTS {own:.3f}, best on the grid {f1_by_row.max():.3f}; {better} of "
              f"{len(grid)} weightings score higher" + ("" if len(on_grid) else " (WEIGHTS is not on this grid)"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", choices=tuple(GRIDS), default="full", help="Values tried per weight (GRIDS).")
    parser.add_argument("--corpora", default=",".join(BUNDLED_DEMOS), help=f"Comma-separated, of: {', '.join(EVALUATION_CORPORA)}.")
    parser.add_argument("--questions", type=int, default=None, help="Only the first N questions of each corpus.")
    args = parser.parse_args()

    started = time.perf_counter()
    corpora = [corpus.strip() for corpus in args.corpora.split(",") if corpus.strip()]
    questions: list[ScoredQuestion] = []
    with tempfile.TemporaryDirectory() as home:
        settings = LabSettings(home=Path(home))
        for corpus in corpora:
            report = build_bundled_demo(settings, corpus)
            print(f"{corpus}: {report.documents_added} documents, {report.chunks_added} chunks", file=sys.stderr)
            items = load_qa_set(EVALUATION_CORPORA[corpus].questions, limit=args.questions).items
            ctx = build_context(settings, corpus)
            try:
                questions += score_corpus(corpus, items, ctx)
            finally:
                ctx.kb.close()
    scored_s = time.perf_counter() - started
    grid = weight_grid(args.grid)
    print_table(questions, grid, corpora)
    print(f"\nscoring {scored_s:.0f} s, search {time.perf_counter() - started - scored_s:.0f} s\n")


if __name__ == "__main__":
    main()
