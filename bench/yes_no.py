"""How a yes/no answer is decided: the pick's accuracy on the yes/no questions of each corpus, by calibration.

A yes/no question is answered by comparing the likelihood of " yes" and " no" after the answer prompt. Read
alone, that favours whatever the model says without reading; so each rule below subtracts a prior:

- `none`: the plain likelihood, the lab's rule (none of the others beat it on the design corpora);
- `closed book`: minus the likelihood after the closed-book prompt (the question alone);
- `content-free`: minus the likelihood after the same answer prompt with every passage replaced by "N/A"
  (contextual calibration, Zhao et al., 2021);
- `half closed book`: minus half the closed-book likelihood.

Passages are traditional retrieval's top-k with the default settings, as an answer would get them. Each row
gives accuracy and how many picks were "yes", over the corpus's yes/no questions. The held-out corpus
(griffe-docs) was run only for the final figures.

    .venv/bin/python bench/yes_no.py [--corpora docs-demo,coverage-docs,pymdownx-docs,griffe-docs]
"""

import argparse
import sys
import tempfile
from pathlib import Path

import lab  # noqa: F401
from eval.qa_sets import load_qa_set
from lab.context import build_context
from lab.core import LabSettings
from lab.core.contracts import Passage
from lab.ingestion import EVALUATION_CORPORA, build_bundled_demo
from lab.llm.prompts import ANSWER_STOP, answer_prompt, closed_book_prompt
from strategies import get_strategy

RULES = ("none", "closed book", "content-free", "half closed book")


def picks(question: str, passages: tuple[Passage, ...], ctx) -> dict[str, str]:
    """The pick of each rule for one question."""
    options = [f" yes{ANSWER_STOP[0]}", f" no{ANSWER_STOP[0]}"]
    read = ctx.generator.score(answer_prompt(question, passages, ctx.settings.answer_template), options)
    bare = ctx.generator.score(closed_book_prompt(question, ctx.settings.closed_book_template), options)
    empty = [Passage(p.chunk_id, "N/A", p.score, "N/A") for p in passages]
    free = ctx.generator.score(answer_prompt(question, empty, ctx.settings.answer_template), options)
    leads = {
        "none": read[0] - read[1],
        "closed book": (read[0] - bare[0]) - (read[1] - bare[1]),
        "content-free": (read[0] - free[0]) - (read[1] - free[1]),
        "half closed book": (read[0] - 0.5 * bare[0]) - (read[1] - 0.5 * bare[1]),
    }
    return {rule: "yes" if lead > 0 else "no" for rule, lead in leads.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="docs-demo,coverage-docs,pymdownx-docs")
    args = parser.parse_args()
    traditional = get_strategy("traditional")
    with tempfile.TemporaryDirectory() as home:
        settings = LabSettings(home=Path(home))
        print(f"{'corpus':<14} {'questions':>9} " + " ".join(f"{rule:>17}" for rule in RULES))
        for corpus in args.corpora.split(","):
            build_bundled_demo(settings, corpus)
            ctx = build_context(settings, corpus)
            items = [i for i in load_qa_set(EVALUATION_CORPORA[corpus].questions).items
                     if i.reference.strip().lower() in ("yes", "no")]
            right = {rule: 0 for rule in RULES}
            said_yes = {rule: 0 for rule in RULES}
            for item in items:
                chosen = picks(item.question, traditional.retrieve(item.question, ctx).passages, ctx)
                print(f"  {item.question[:70]!r} {item.reference}: {chosen}", file=sys.stderr, flush=True)
                for rule, pick in chosen.items():
                    right[rule] += pick == item.reference.strip().lower()
                    said_yes[rule] += pick == "yes"
            cells = " ".join(f"{right[r] / len(items):>5.2f} ({said_yes[r]:>2}y/{len(items)})" for r in RULES)
            print(f"{corpus:<14} {len(items):>9} {cells:>17}", flush=True)
            ctx.kb.close()


if __name__ == "__main__":
    main()
