"""Candidate answers drawn from retrieved passages, for answer selection (`lab.steps.selecting`).

A 270M base model reads evidence badly when it must write the answer, but it ranks short spans of that
evidence well. So the spans an answer is usually made of are collected here: named entities, dates and
numbers, noun chunks and passage titles from the prose, and quoted or `code` phrases and what code is made
of (command-line options, `name=value` settings, environment variables, dotted and snake_case identifiers:
the answers of technical docs) from inline code, code blocks and prose alike; each with its closeness: how
many of the question's content words share a sentence with it (for a code block, the sentence before it).
spaCy reads the prose only: a code block's names are not English noun phrases.
The question's own shape narrows them: a yes/no question is answered "yes" or "no", and a question that
offers its options ("…, A or B?") is answered by one of them. Everything here is spaCy and string work;
no model is called.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.core.contracts import Passage

AUXILIARIES = frozenset(
    "is are was were am be do does did can could has have had will would shall should may might must".split()
)
INTERROGATIVES = frozenset("what which who whom whose where why how".split())
ANSWER_TYPES = {
    "who": frozenset({"PERSON", "ORG", "NORP"}),
    "when": frozenset({"DATE", "TIME"}),
    "what year": frozenset({"DATE"}),
    "which year": frozenset({"DATE"}),
    "how many": frozenset({"CARDINAL", "QUANTITY"}),
    "how much": frozenset({"MONEY", "QUANTITY", "PERCENT", "CARDINAL"}),
    "how long": frozenset({"DATE", "TIME", "QUANTITY"}),
    "how old": frozenset({"DATE", "CARDINAL"}),
    "where": frozenset({"GPE", "LOC", "FAC"}),
    "what city": frozenset({"GPE"}),
    "which city": frozenset({"GPE"}),
    "what country": frozenset({"GPE"}),
    "which country": frozenset({"GPE"}),
    "what nationality": frozenset({"NORP", "GPE"}),
}
"""Question openings and the spaCy entity labels their answers usually carry (a prior, not a filter). Written by
hand; how much the prior counts is `RankingWeights.answer_type`, which `bench/ranking_weights.py` searches."""
ASKS_FOR_CODE = re.compile(
    r"\b(?:which|what)\s+(?:[\w-]+\s+){0,2}?(?:option|flag|setting|parameter|argument|variable|function|method|class"
    r"|attribute|command|keyword|key|field|file name|extension|value)s?\b"
)
"""A question asking for a named thing of code ("which option …", "what environment variable …"), not what one
does ("what does the lazy flag change?"): its answer usually carries the CODE label. Same prior, same weight."""

_QUOTED = re.compile(r"`([^`\n]{1,60})`|\"([^\"\n]{2,60})\"|“([^”\n]{2,60})”")
_CODE_BLOCK = re.compile(r"^(`{3,})\n(.*?)\n\1$", re.MULTILINE | re.DOTALL)
CODE_TOKEN = re.compile(
    r"(?<![\w-])--?[A-Za-z][\w-]*(?:=[\w.:/-]+)?"  # --option, -v, --opt=value
    r"|\b[A-Za-z_][\w.]*\s?=\s?[\w.'\"/:-]+"  # name=value, name = value
    r"|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b"  # ENVIRONMENT_VARIABLE
    r"|\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?"  # dotted.name, module.function()
    r"|\b[a-z][a-z0-9]*_[a-z0-9_]+\b"  # snake_case
    r"|\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z0-9]+[A-Z]\w*\b"  # camelCase, CamelCase
)
"""What code answers are made of; matched in code and in prose, where docs name options and settings bare."""
_CHOICE = re.compile(r"[,:;]\s*([^,:;]{1,80}?)\s*,?\s+or\s+([^,:;?]{1,80}?)\s*\??\s*$", re.IGNORECASE)
_LEADING = re.compile(r"^(?:the|a|an|its|their|his|her|this|that|these|those)\s+", re.IGNORECASE)
_WORD = re.compile(r"\w+")
MAX_CANDIDATE_WORDS = 8
"""Longest candidate, in words. Chosen by hand when selection was written (the gold answers of both demos are at
most 5 words), not searched; the selection ceiling of `bench/answers.py` (F1 ceil) reads what the candidates
it keeps allow, on every question of both demos."""
MAX_CANDIDATES = 40
"""Candidates scored per question, closest to the question first. Chosen by hand, not searched: scoring time
grows with it (`bench/answers.py`, s/q sel), and the F1 ceiling there says what the 40 kept allow."""


@dataclass
class Candidate:
    """One possible answer and the evidence-side facts the ranking weighs."""

    text: str
    first_rank: int
    passages: set[int] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    in_question: bool = False
    closeness: float = 0.0
    """Largest share of the question's content words in a sentence that holds the candidate."""

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "first_rank": self.first_rank,
            "passages": len(self.passages),
            "labels": sorted(self.labels),
            "closeness": round(self.closeness, 3),
        }


@dataclass(frozen=True)
class QuestionShape:
    """What the question's form says about its answer: yes/no, one of offered options, or an expected type."""

    yes_no: bool
    options: tuple[str, ...]
    expected_labels: frozenset[str]


def asks_yes_or_no(question: str) -> bool:
    """An auxiliary opens the question ("Does …?") or, after a leading clause, its last clause ("If I …, does
    …?"); in the second form no interrogative word may appear ("What series, told in …, has …?" is not one)."""
    words = _WORD.findall(question.lower())
    if words[:1] and words[0] in AUXILIARIES:
        return True
    last_clause = _WORD.findall(question.lower().rsplit(", ", 1)[-1]) if ", " in question else []
    return bool(last_clause) and last_clause[0] in AUXILIARIES and not INTERROGATIVES & set(words)


def question_shape(question: str, nlp) -> QuestionShape:
    text = " ".join(question.split())
    lowered = text.lower()
    yes_no_form = asks_yes_or_no(text)
    options = _offered_options(text, nlp, yes_no_form)
    opening = max((o for o in ANSWER_TYPES if re.search(rf"\b{o}\b", lowered)), key=len, default="")
    expected = ANSWER_TYPES.get(opening, frozenset())
    if ASKS_FOR_CODE.search(lowered) and not re.match(r"(?:which|what)\s+(?:does|do|is|are)\b", lowered):
        expected = expected | {"CODE"}
    return QuestionShape(yes_no_form and not options, options, expected)


def _offered_options(question: str, nlp, yes_no_form: bool) -> tuple[str, ...]:
    """The two options of "…, A or B?"; or, in a question opening like "Is A or B …?", the phrases either
    side of " or " (spaCy's names and noun chunks). "Which band or singer …?" offers no options."""
    if " or " not in question.lower():
        return ()
    match = _CHOICE.search(question)
    if match:
        return tuple(_clean(option) for option in match.groups())
    if not yes_no_form:
        return ()
    doc = nlp(question)
    split = question.lower().rindex(" or ")
    phrases = sorted({*doc.ents, *doc.noun_chunks}, key=lambda span: span.start_char)
    before = [p for p in phrases if p.end_char <= split]
    after = [p for p in phrases if p.start_char > split]
    return (_clean(before[-1].text), _clean(after[0].text)) if before and after else ()


def answer_candidates(
    question: str, passages: Sequence[Passage], nlp, shape: QuestionShape, limit: int = MAX_CANDIDATES
) -> list[Candidate]:
    """At most `limit` candidates: those in the sentences closest to the question first, then by passage rank.

    What the question itself names is left out: outside "A or B" questions, an answer repeats the
    question's names almost never, while a base model scores them high for having just read them.
    """
    if shape.yes_no:
        return [Candidate("yes", 0), Candidate("no", 0)]
    if shape.options:
        return [Candidate(option, 0, in_question=True) for option in shape.options]
    question_key = _key(question)
    terms = content_lemmas(nlp(question))
    found: dict[str, Candidate] = {}

    def add(text: str, rank: int, closeness: float, label: str = "") -> None:
        text = _clean(text)
        key = _key(text)
        if not key or len(text.split()) > MAX_CANDIDATE_WORDS or key.isdigit() and len(key) == 1 and label == "":
            return
        candidate = found.setdefault(key, Candidate(text, rank, in_question=f" {key} " in f" {question_key} "))
        candidate.passages.add(rank)
        candidate.closeness = max(candidate.closeness, closeness)
        if label:
            candidate.labels.add(label)

    for rank, doc in enumerate(nlp.pipe(prose_only(p.text) for p in passages)):
        near = {sentence.start: _closeness(terms, sentence) for sentence in doc.sents}

        def closeness_of(span) -> float:
            return near.get(span.sent.start, 0.0)

        def closeness_before(position: int) -> float:
            before = [s for s in doc.sents if s.start_char < position and s.text.strip()]
            return near.get(before[-1].start, 0.0) if before else 0.0

        add(passages[rank].doc_title, rank, max(near.values(), default=0.0), "TITLE")
        for ent in doc.ents:
            add(ent.text, rank, closeness_of(ent), ent.label_)
        for quoted in _QUOTED.finditer(passages[rank].text):
            span = doc.char_span(quoted.start(), quoted.end(), alignment_mode="expand")
            add(next(g for g in quoted.groups() if g), rank, closeness_of(span) if span else 0.0, "QUOTED")
        for block in _CODE_BLOCK.finditer(passages[rank].text):
            for token in CODE_TOKEN.finditer(block.group(2)):
                add(token.group(), rank, closeness_before(block.start()), "CODE")
        for token in CODE_TOKEN.finditer(doc.text):
            span = doc.char_span(token.start(), token.end(), alignment_mode="expand")
            add(token.group(), rank, closeness_of(span) if span else 0.0, "CODE")
        for chunk in doc.noun_chunks:
            if not all(token.is_stop or token.is_punct for token in chunk):
                add(chunk.text, rank, closeness_of(chunk))
        for token in doc:
            if token.like_num:
                add(token.text, rank, closeness_of(token), "CARDINAL")
    fresh = [candidate for candidate in found.values() if not candidate.in_question]
    return sorted(fresh, key=lambda c: (-c.closeness, c.first_rank))[:limit]


_FENCE_LINE = re.compile(r"^`{3,}$", re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`\n]*`")
_HEADING_MARK = re.compile(r"^#{1,6} ", re.MULTILINE)
_HEADING_LINE = re.compile(r"^(#{1,6}) (.*)\n\n", re.MULTILINE)


def prose_only(text: str, keep_inline_code: bool = False) -> str:
    """The text as spaCy should read it, at the same length so positions still match: code blocks and inline
    code blanked (their names are candidates of their own), and a heading's `#`s too, its line ended like a
    sentence so it is not read into the next. A chunk cut inside a code block keeps one fence line of it:
    the shorter side of that line is the code. Inline code stays when the sentence itself is wanted (a
    question written from it)."""
    text = _CODE_BLOCK.sub(lambda block: _blank(block.group()), text)
    if fence := _FENCE_LINE.search(text):
        before, after = text[: fence.start()], text[fence.start() :]
        text = _blank(before) + after if len(before) < len(after) else before + _blank(after)
    text = _HEADING_LINE.sub(lambda m: f"{' ' * len(m.group(1))} {m.group(2)}.\n", text)
    text = _HEADING_MARK.sub(lambda m: " " * len(m.group()), text)
    return text if keep_inline_code else INLINE_CODE.sub(lambda code: " " * len(code.group()), text)


def _blank(text: str) -> str:
    return re.sub(r"\S", " ", text)


def content_lemmas(doc) -> frozenset[str]:
    """The question's words that carry meaning: lemmas of what is not a stop word or punctuation."""
    return frozenset(t.lemma_.lower() for t in doc if not (t.is_stop or t.is_punct or t.is_space))


def _closeness(terms: frozenset[str], sentence) -> float:
    """Share of the question's content words the sentence repeats (the answer usually sits beside them)."""
    if not terms:
        return 0.0
    return len(terms & {t.lemma_.lower() for t in sentence}) / len(terms)


def _clean(text: str) -> str:
    text = " ".join(text.split()).strip(" .,;:!?\"'()[]")
    return _LEADING.sub("", text)


def _key(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))
