"""Entity linking: which entities of the graph a text names, for every strategy that walks the graph.

Two readings of a text, one module, so graph, graph-global, the agent and the multi-agent team link alike:
- `link_entities` reads a question with spaCy: exact names of the graph first (longest first, each a
  proper-noun-like span that does not cut a longer named entity), then spaCy's named entities matched
  fuzzily (`EntityGraph.find`), each with a confidence. It costs a spaCy pass, once per question.
- `named_entities` scans any text (a question, a sub-query, a passage's bridge name) for whole names of
  the graph by capitalization alone, with no spaCy pass, so the agent can call it at every step.
`pages_named_by` gives the pages an entity's own text spells out where NER missed them ("WINNER").

A name much of the corpus shares without a page of its own narrows no search (`EntityGraph.is_common`):
strategies skip linked entities mentioned by more than `COMMON_SHARE` of the chunks.
"""

import re
from collections.abc import Iterable

from lab.graph.entities import NON_ENTITY_LABELS, EntityExtractor, entity_key
from lab.graph.entity_graph import EntityGraph

COMMON_SHARE = 0.05
"""Chosen by hand on the Click docs demo, where "Click" appears in most chunks and walking from it reached
every page; checked on the HotpotQA demo, whose recall it left unchanged (docs/answer-quality.md)."""
QUESTION_NAME_WORDS = 8
"""Longest name `link_entities` tries in a question, in spaCy tokens."""
TEXT_NAME_WORDS = 6
"""Longest name `named_entities` tries in a text, in words."""
_WORD = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"['’]s\b")


def link_entities(question: str, graph: EntityGraph, extractor: EntityExtractor, min_ratio: float) -> dict[str, float]:
    """Graph entities the question names, with a confidence: exact names first (longest first), then fuzzy NER."""
    if graph.is_empty:
        return {}
    doc = extractor.nlp(question)
    linked: dict[str, float] = {}
    taken: set[int] = set()
    for length in range(min(QUESTION_NAME_WORDS, len(doc)), 0, -1):
        for start in range(len(doc) - length + 1):
            span = doc[start : start + length]
            if taken.isdisjoint(range(span.start, span.end)) and _looks_like_a_name(span) and not _cuts_an_entity(span):
                key = entity_key(span.text)
                if key in graph:
                    linked[key] = 1.0
                    taken.update(range(span.start, span.end))
    for ent in doc.ents:
        if ent.label_ in NON_ENTITY_LABELS or not taken.isdisjoint(range(ent.start, ent.end)):
            continue
        for key, confidence in graph.find(ent.text, min_ratio):
            linked[key] = max(linked.get(key, 0.0), confidence)
    return linked


def _cuts_an_entity(span) -> bool:
    """True when the span is part of a longer named entity: "South" in "South Korean" names nothing."""
    return any(ent.start < span.start < ent.end or ent.start < span.end < ent.end for ent in span.doc.ents)


def _looks_like_a_name(span) -> bool:
    """A proper-noun-like span: it starts with a capital or a digit and is not a lone stop word ("Who")."""
    first = span[0]
    if len(span) == 1 and (first.is_stop or first.is_punct):
        return False
    return first.text[:1].isupper() or first.text[:1].isdigit() or first.ent_type_ not in ("", *NON_ENTITY_LABELS)


def named_entities(text: str, graph: EntityGraph) -> list[str]:
    """Graph entities the text spells out as whole names, longest first, none inside another.

    A name must not run on into a capitalized word ("South" in "South Korean" names nothing); the text's
    first word may be a capitalized question word. A short text with no exact name may be a misspelt one.
    """
    text = _POSSESSIVE.sub("", text)
    matches = list(_WORD.finditer(text))
    words = [m.group() for m in matches]
    capital = [w[0].isupper() or w[0].isdigit() for w in words]
    joined = [i > 0 and text[matches[i - 1].end() : matches[i].start()].strip() == "" for i in range(len(words))]
    spans = []
    for start in range(len(words)):
        if not capital[start] or (start > 1 and capital[start - 1] and joined[start]):
            continue
        for end in range(start + 1, min(start + TEXT_NAME_WORDS, len(words)) + 1):
            key = entity_key(" ".join(words[start:end]))
            if key in graph and (end == len(words) or not (capital[end] and joined[end])):
                spans.append((start, end, key))
    spans.sort(key=lambda span: (span[0] - span[1], span[0]))
    taken: set[int] = set()
    keys: list[str] = []
    for start, end, key in spans:
        if taken.isdisjoint(range(start, end)) and key not in keys:
            keys.append(key)
            taken.update(range(start, end))
    if not keys and len(words) <= TEXT_NAME_WORDS:
        keys = [key for key, _ in graph.find(text)[:1]]
    return keys


def pages_named_by(key: str, graph: EntityGraph, texts: Iterable[str]) -> set[str]:
    """Entities with a page of their own that the texts (chunks about `key`) spell out, NER or not."""
    return {page for text in texts for page in graph.pages_named_in(text)} - {key}
