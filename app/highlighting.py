"""Marking the question's words in a passage, so a reader sees at once why it was retrieved."""

import html
import re

_STOPWORDS = frozenset(
    "a an and are as at be by did do does for from has have he her his how in is it its of on or she that the "
    "their them they this to was were what when where which who whom whose why with".split()
)


def question_terms(question: str) -> set[str]:
    return {w for w in re.findall(r"\w+", question.lower()) if w not in _STOPWORDS and len(w) > 1}


def highlight_terms(text: str, question: str) -> str:
    """HTML-escaped text with every question term wrapped in <mark>."""
    terms = question_terms(question)
    escaped = html.escape(text)
    if not terms:
        return escaped
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")\b", re.I)
    return pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", escaped)
