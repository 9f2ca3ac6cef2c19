"""Passages and answers as inert HTML, with the question's words marked so a reader sees why a passage came back.

Corpus text is untrusted: titles and text are HTML-escaped and rendered as HTML (`st.html`), never as
Markdown, so neither markup nor Markdown (`# heading`, `[link](javascript:...)`) from a document takes
effect. The only tags on the page are the ones written here. Where a widget reads Markdown anyway
(captions, warnings, headings, progress text), untrusted text goes through `markdown_literal` first.
"""

import html
import re
from collections.abc import Sequence

_STOPWORDS = frozenset(
    "a an and are as at be by did do does for from has have he her his how in is it its of on or she that the "
    "their them they this to was were what when where which who whom whose why with".split()
)

_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def markdown_literal(text: str) -> str:
    """Untrusted text for a widget that reads Markdown: one line, every ASCII punctuation character
    backslash-escaped (CommonMark allows it for each), so no link, image, heading, list, HTML or Streamlit
    `:color[...]` form can start. The reader sees the characters as they are."""
    return _ASCII_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


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


def passage_html(title: str, score: float, text: str, question: str) -> str:
    return f"<p><b>{html.escape(title)}</b> · score {score:.3f}<br>{highlight_terms(text, question)}</p>"


def chunk_html(title: str, chunk_id: int, text: str) -> str:
    return f"<p><b>{html.escape(title)}</b> #{chunk_id}<br>{html.escape(text)}</p>"


def candidates_html(candidates: Sequence[dict]) -> str:
    """The top answer candidates and their scores, escaped: each one is a span of an untrusted passage."""
    rows = "".join(
        f"<tr><td>{html.escape(str(c['text']))}</td><td>{c['score']:.2f}</td><td>{c['likelihood']:.2f}</td></tr>"
        for c in candidates
    )
    return (
        "<table><thead><tr><th>candidate</th><th>score</th><th>log-likelihood</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def answer_html(text: str) -> str:
    """The generated answer, escaped too: a model may copy markup from the passages it read."""
    return f"<p><b>{html.escape(text) or '(empty answer)'}</b></p>"


def span_html(title: str, text: str, start: int, end: int) -> str:
    """A passage, escaped, with one character span of it (a test item's answer) wrapped in <mark>."""
    start, end = max(0, min(start, len(text))), max(0, min(end, len(text)))
    marked = f"{html.escape(text[:start])}<mark>{html.escape(text[start:end])}</mark>{html.escape(text[end:])}"
    return f"<p><b>{html.escape(title)}</b><br>{marked}</p>"
