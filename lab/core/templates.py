"""The default prompt templates: settings a user edits, so they sit below the prompts that fill them.

`{passages}` and `{question}` mark where the text goes; a template without its marks is refused.
"""

from collections.abc import Sequence

_WORKED_QUESTION = "Question: Which country was Marie Curie born in?\nAnswer: Poland\n\n"
_WORKED_PASSAGE = "Passage 1 (Marie Curie): Marie Curie was a Polish-born physicist and chemist who lived in France.\n"
DEFAULT_ANSWER_TEMPLATE = _WORKED_PASSAGE + _WORKED_QUESTION + "{passages}\nQuestion: {question}\nAnswer:"
DEFAULT_CLOSED_BOOK_TEMPLATE = _WORKED_QUESTION + "Question: {question}\nAnswer:"
TEMPLATE_PLACEHOLDERS = {"answer_template": ("{passages}", "{question}"), "closed_book_template": ("{question}",)}


def missing_placeholders(template: str, placeholders: Sequence[str]) -> list[str]:
    return [placeholder for placeholder in placeholders if placeholder not in template]
