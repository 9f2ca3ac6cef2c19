"""Completion-style prompts shared by strategies.

The embedded generator is a base model: it continues text, it does not follow instructions. So a
prompt is the beginning of a document whose natural continuation is the answer, with one worked
example to set the format, and generation stops at the end of the line.
"""

from collections.abc import Sequence

from lab.contracts import Passage

ANSWER_STOP = ("\n",)

_EXAMPLE = (
    "Passage 1 (Marie Curie): Marie Curie was a Polish-born physicist and chemist who lived in France.\n"
    "Question: Which country was Marie Curie born in?\n"
    "Answer: Poland\n\n"
)


def answer_prompt(question: str, passages: Sequence[Passage], max_chars_per_passage: int = 1200) -> str:
    """Passages, then the question, then `Answer:` for the model to complete."""
    lines = [
        f"Passage {i} ({p.doc_title}): {' '.join(p.text.split())[:max_chars_per_passage]}"
        for i, p in enumerate(passages, start=1)
    ]
    return _EXAMPLE + "\n".join(lines) + f"\nQuestion: {question.strip()}\nAnswer:"


def closed_book_prompt(question: str) -> str:
    """The question alone, for the no-retrieval control."""
    return f"Question: Which country was Marie Curie born in?\nAnswer: Poland\n\nQuestion: {question.strip()}\nAnswer:"
