"""Completion-style prompts shared by strategies.

The embedded generator is a base model: it continues text, it does not follow instructions. So a
prompt is the beginning of a document whose natural continuation is the answer, with one worked
example to set the format, and generation stops at the end of the line.

The two templates are settings (`answer_template`, `closed_book_template`) so a user can adapt them
to their own model from the Settings page; `{passages}` and `{question}` mark where the text goes.
"""

from collections.abc import Sequence

from lab.core import examples
from lab.core.contracts import Passage
from lab.core.templates import DEFAULT_ANSWER_TEMPLATE, DEFAULT_CLOSED_BOOK_TEMPLATE

ANSWER_STOP = ("\n",)


def fill_template(template: str, **values: str) -> str:
    """Replace `{name}` marks literally, so a template may hold other braces (JSON, code) unescaped."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def answer_prompt(
    question: str,
    passages: Sequence[Passage],
    template: str = DEFAULT_ANSWER_TEMPLATE,
    notes: Sequence[str] = (),
    max_chars_per_passage: int = 1200,
) -> str:
    """Passages (and any notes, one per line after them), then the question, for the model to answer."""
    lines = [
        f"Passage {i} ({p.section or p.doc_title}): {' '.join(p.text.split())[:max_chars_per_passage]}"
        for i, p in enumerate(passages, start=1)
    ]
    return fill_template(template, passages="\n".join([*lines, *notes]), question=question.strip())


def closed_book_prompt(question: str, template: str = DEFAULT_CLOSED_BOOK_TEMPLATE) -> str:
    """The question alone, for the no-retrieval control and Self-RAG's draft."""
    return fill_template(template, question=question.strip())


REWRITE_EXAMPLES = (
    f"Question: {examples.BRIDGE_QUESTION}\n"
    "Search query: Lumen 3 lamp battery maker city\n\n"
    "Question: Which river flows through the town where the engineer Mara Holt was born?\n"
    "Search query: Mara Holt engineer birthplace town river\n\n"
    "Question: Do the Lumen 3 and the Lumen 5 lamps both run longer than the Lumen 1?\n"
    "Search query: Lumen 3 Lumen 5 Lumen 1 lamp run time\n\n"
)


def rewrite_prompt(question: str) -> str:
    """A search query written for the question after three worked examples (rewrite and CRAG)."""
    return REWRITE_EXAMPLES + f"Question: {question.strip()}\nSearch query:"
