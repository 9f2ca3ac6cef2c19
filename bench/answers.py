"""Answer quality of every strategy on both bundled demos, in `generate` and in `select` answer mode.

The table a user picks a strategy from: for each demo corpus (HotpotQA, Wikipedia paragraphs; the Click
docs, Markdown pages) and each strategy, answer exact match and token F1 (SQuAD normalization,
`eval/answer_metrics.py`) with the answer written (`generate`) and with it selected from candidate spans
(`select`), the mean seconds per question end to end in each mode and their ratio, and recall@5 of
the gold documents, over all questions and over those whose gold spans two or more documents
(retrieval does not depend on the mode; measured in `select`), and the selection ceiling: the F1 of the best
of the candidate answers drawn from the passages a strategy returned, what a perfect ranking would score
(no ceiling where no passages were returned). Each strategy runs
in full (`answer`) once per mode on the same loaded context, so the two modes see the same retrieval
code and the same model. The HotpotQA questions are also reported by half (even and odd positions),
the split docs/answer-quality.md's held-out figures use: the ranking weights were chosen on one half and read on the other.

A strategy that raises is reported by name while the rest go on. Knowledge bases are built in a
temporary lab home with the default settings (top_k 5).

    .venv/bin/python bench/answers.py [--corpora demo,docs-demo,coverage-docs,pymdownx-docs,griffe-docs]
        [--strategies traditional,agentic] [--questions N] [--modes select]

The yes/no column is the share of the yes/no questions answered right in `select` mode, with how many of the
answers were "yes".
"""

import argparse
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import lab  # noqa: F401
from eval.answer_metrics import exact_match, f1_score
from eval.qa_sets import QAItem, load_qa_set
from lab.context import LabContext, build_context
from lab.core import LabSettings
from lab.ingestion import BUNDLED_DEMOS, EVALUATION_CORPORA, build_bundled_demo
from lab.steps.candidates import answer_candidates, question_shape
from strategies import available_strategies, get_strategy

MODES = ("generate", "select")
FIRST = ("no-retrieval", "traditional", "hybrid", "graph", "agentic")
"""Run first, so that a long run read early already holds the control and the four strategies the lab leads with."""


@dataclass
class Cell:
    """One strategy on one corpus in one mode: per-question scores and seconds."""

    em: list[float] = field(default_factory=list)
    f1: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    multi_document: list[bool] = field(default_factory=list)
    ceiling: list[float] = field(default_factory=list)
    yes_no: list[tuple[str, str]] = field(default_factory=list)
    """(reference, answer) of the questions whose reference is yes or no."""
    error: str | None = None

    def yes_no_accuracy(self) -> str:
        """Share of yes/no questions answered right, and how many of the answers were "yes"."""
        if not self.yes_no:
            return "-"
        right = sum(answer == reference for reference, answer in self.yes_no)
        said_yes = sum(answer == "yes" for _, answer in self.yes_no)
        return f"{right / len(self.yes_no):.2f} ({said_yes}y/{len(self.yes_no)})"

    def mean(self, name: str, positions: slice = slice(None)) -> float:
        values = [value for value in getattr(self, name)[positions] if value == value]  # NaN: not applicable
        return statistics.fmean(values) if values else float("nan")

    def multi_document_recall(self) -> float:
        """Recall@5 on the questions whose gold spans two or more documents: the multi-hop ones."""
        values = [r for r, multi in zip(self.recall, self.multi_document) if multi]
        return statistics.fmean(values) if values else float("nan")


def run_cell(name: str, items: tuple[QAItem, ...], ctx: LabContext, mode: str) -> Cell:
    strategy = get_strategy(name)
    moded = replace(ctx, settings=ctx.settings.model_copy(update={"answer_mode": mode}))
    cell = Cell()
    for position, item in enumerate(items):
        started = time.perf_counter()
        try:
            answer = strategy.answer(item.question, moded)
        except Exception as error:  # one failing strategy is reported by name; the others go on
            cell.error = f"failed on question {position + 1}: {type(error).__name__}: {error}"
            return cell
        cell.seconds.append(time.perf_counter() - started)
        cell.em.append(exact_match(answer.text, item.reference))
        cell.f1.append(f1_score(answer.text, item.reference))
        gold = set(item.reference_doc_titles)
        found = {p.doc_title for p in answer.passages[:5]}
        cell.recall.append(len(gold & found) / len(gold) if gold else float("nan"))
        cell.multi_document.append(len(gold) > 1)
        if item.reference.strip().lower() in ("yes", "no"):
            cell.yes_no.append((item.reference.strip().lower(), answer.text.strip().lower().rstrip(".")))
        cell.ceiling.append(selection_ceiling(item, answer.passages, moded))
        print(f"  {name:<13} {mode:<8} q{position + 1:>2} f1={cell.f1[-1]:.2f} {cell.seconds[-1]:6.1f} s "
              f"{answer.text[:50]!r}", file=sys.stderr, flush=True)
    return cell


def selection_ceiling(item: QAItem, passages, ctx: LabContext) -> float:
    """The best F1 any candidate drawn from the passages reaches: what selection could score with a perfect ranking."""
    if not passages:
        return float("nan")
    nlp = ctx.extractor.nlp
    candidates = answer_candidates(item.question, passages, nlp, question_shape(item.question, nlp))
    return max((f1_score(candidate.text, item.reference) for candidate in candidates), default=0.0)


HEADER = (
    f"{'strategy':<13} {'EM gen':>7} {'F1 gen':>7} {'EM sel':>7} {'F1 sel':>7} {'s/q gen':>8} {'s/q sel':>8} "
    f"{'sel/gen':>8} {'R@5':>6} {'R@5 multi':>9} {'F1 ceil':>7} {'yes/no sel':>12}"
)


def row(name: str, cells: dict[str, Cell]) -> str:
    """One table row; a mode not run (`--modes`) shows '-' in its columns."""
    failed = [f"{mode}: {cell.error}" for mode, cell in cells.items() if cell.error]
    if failed:
        return f"{name:<13} " + "; ".join(failed)
    empty = Cell()
    gen, sel = cells.get("generate", empty), cells.get("select", empty)
    either = sel if "select" in cells else gen
    ratio = sel.mean("seconds") / gen.mean("seconds") if len(cells) == 2 else float("nan")
    return (
        f"{name:<13} {gen.mean('em'):>7.3f} {gen.mean('f1'):>7.3f} {sel.mean('em'):>7.3f} {sel.mean('f1'):>7.3f} "
        f"{gen.mean('seconds'):>8.2f} {sel.mean('seconds'):>8.2f} {ratio:>7.2f}x {either.mean('recall'):>6.3f} "
        f"{either.multi_document_recall():>9.3f} {either.mean('ceiling'):>7.3f} {sel.yes_no_accuracy():>12}"
    )


def print_corpus_table(corpus: str, results: dict[str, dict[str, Cell]], count: int) -> None:
    print(f"\n{corpus} ({count} questions): answer EM / F1 by mode, seconds per question, recall@5")
    print(HEADER)
    for name, cells in results.items():
        print(row(name, cells))


def print_halves(results: dict[str, dict[str, Cell]]) -> None:
    print("\nBy half (even / odd question positions): F1 gen, F1 sel, recall@5, F1 ceiling")
    for name, cells in results.items():
        if any(cell.error for cell in cells.values()):
            continue
        parts = []
        for label, positions in (("even", slice(0, None, 2)), ("odd", slice(1, None, 2))):
            parts.append(
                f"{label}: {cells['generate'].mean('f1', positions):.3f} {cells['select'].mean('f1', positions):.3f} "
                f"{cells['select'].mean('recall', positions):.3f} {cells['select'].mean('ceiling', positions):.3f}"
            )
        print(f"{name:<13} " + " | ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default=",".join(BUNDLED_DEMOS), help=f"Comma-separated, of: {', '.join(EVALUATION_CORPORA)}.")
    parser.add_argument("--strategies", default="all", help="Comma-separated names, or 'all' (the default).")
    parser.add_argument("--questions", type=int, default=None, help="Only the first N questions of each corpus.")
    parser.add_argument("--modes", default=",".join(MODES), help="Answer modes to run: generate, select or both.")
    args = parser.parse_args()
    modes = [mode for mode in MODES if mode in args.modes.split(",")]

    known = list(available_strategies())
    first = [name for name in FIRST if name in known]
    names = first + [n for n in known if n not in first] if args.strategies == "all" else args.strategies.split(",")
    for name in names:
        get_strategy(name)
    corpora = [corpus.strip() for corpus in args.corpora.split(",") if corpus.strip()]
    with tempfile.TemporaryDirectory() as home:
        settings = LabSettings(home=Path(home))
        contexts, questions = {}, {}
        for corpus in corpora:
            report = build_bundled_demo(settings, corpus)
            print(f"{corpus}: {report.documents_added} documents, {report.chunks_added} chunks", file=sys.stderr)
            questions[corpus] = load_qa_set(EVALUATION_CORPORA[corpus].questions, limit=args.questions).items
            contexts[corpus] = build_context(settings, corpus)
        results: dict[str, dict[str, dict[str, Cell]]] = {corpus: {} for corpus in corpora}
        for name in names:
            for corpus in corpora:
                cells = {mode: run_cell(name, questions[corpus], contexts[corpus], mode) for mode in modes}
                results[corpus][name] = cells
                print(f"{corpus:<10} {row(name, cells)}", flush=True)
        for context in contexts.values():
            context.kb.close()
    print("\n=== summary ===")
    for corpus in corpora:
        print_corpus_table(corpus, results[corpus], len(questions[corpus]))
        if corpus == "demo" and len(modes) == 2:
            print_halves(results[corpus])
    print()


if __name__ == "__main__":
    main()
