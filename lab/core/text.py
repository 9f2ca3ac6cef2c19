"""Character spans of text, and sentences as spans: what chunkers and the entity graph both cut text into."""

import re
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def trimmed(text: str, start: int, end: int) -> Span | None:
    """The span without surrounding whitespace, or None if nothing is left."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end) if end > start else None


def sentence_spans(text: str) -> list[Span]:
    """Sentences by punctuation followed by space and a capital, digit or quote; good enough for prose."""
    spans, start = [], 0
    for match in re.finditer(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|\n\s*\n", text):
        if (span := trimmed(text, start, match.start())) is not None:
            spans.append(span)
        start = match.end()
    if (span := trimmed(text, start, len(text))) is not None:
        spans.append(span)
    return spans


_ARTICLES = frozenset({"a", "an", "the"})


def token_overlap(a: str, b: str) -> float:
    """Token F1 of two short answers, lower-cased, without punctuation and articles (as SQuAD compares)."""
    left, right = _answer_tokens(a), _answer_tokens(b)
    common = sum((Counter(left) & Counter(right)).values())
    if not common:
        return 0.0
    precision, recall = common / len(left), common / len(right)
    return 2 * precision * recall / (precision + recall)


def _answer_tokens(text: str) -> list[str]:
    return [token for token in re.findall(r"\w+", text.lower()) if token not in _ARTICLES]
