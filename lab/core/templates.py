"""The default prompt templates: settings a user edits, so they sit below the prompts that fill them.

`{passages}` and `{question}` mark where the text goes; a template without its marks is refused.
"""

from collections.abc import Sequence

from lab.core.examples import (
    CLOSED_BOOK_ANSWER,
    CLOSED_BOOK_QUESTION,
    DIRECT_ANSWER,
    DIRECT_QUESTION,
    MANUAL_PASSAGE,
    MANUAL_TITLE,
)

_WORKED_PASSAGE = f"Passage 1 ({MANUAL_TITLE}): {MANUAL_PASSAGE}\n"
_WORKED_QUESTION = f"Question: {DIRECT_QUESTION}\nAnswer: {DIRECT_ANSWER}\n\n"
_CLOSED_BOOK_QUESTION = f"Question: {CLOSED_BOOK_QUESTION}\nAnswer: {CLOSED_BOOK_ANSWER}\n\n"
DEFAULT_ANSWER_TEMPLATE = _WORKED_PASSAGE + _WORKED_QUESTION + "{passages}\nQuestion: {question}\nAnswer:"
DEFAULT_CLOSED_BOOK_TEMPLATE = _CLOSED_BOOK_QUESTION + "Question: {question}\nAnswer:"
TEMPLATE_PLACEHOLDERS = {"answer_template": ("{passages}", "{question}"), "closed_book_template": ("{question}",)}


def missing_placeholders(template: str, placeholders: Sequence[str]) -> list[str]:
    return [placeholder for placeholder in placeholders if placeholder not in template]
