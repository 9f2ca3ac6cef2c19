"""Drafts of test items, each written from facts the knowledge base's own passages state.

A fact is one sentence of a passage and one answer span in it: a named entity, a date or number, or a piece
of code (inline code, an option, a `name=value` setting, an identifier). Four kinds of item are drafted
from facts, as the bundled demos mix them:
- `single`: the fact's sentence turned into a question its span answers (`lab.testsets.questions`);
- `yes_no`: the sentence as a yes/no question, with its span kept ("yes") or swapped for a span of the same
  kind from another document ("no");
- `bridge`: a fact of page B asked about through page A, which names B's subject: B's name in the question
  becomes what A says of it ("the … that A …");
- `comparison`: two pages dating the same kind of event ("was released in 1994", "is a 1998 film"), asked
  which came first.
Every draft carries the character span of its evidence in the source document, so an item stays valid when
the corpus is chunked again. Drafting is spaCy work only; `lab.testsets.filters` then keeps the good ones.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lab.kb import StoredChunk
from lab.steps.candidates import CODE_TOKEN, INLINE_CODE, prose_only
from lab.testsets.questions import original, page_name, relative_clause, wh_question, yes_no_question

KINDS = ("single", "yes_no", "bridge", "comparison")
SKIPPED_LABELS = frozenset({"ORDINAL"})
MIN_SENTENCE_WORDS = 5
_BLANKED = re.compile(r"\s{3,}")
_YEAR = re.compile(r"\b(1[5-9]\d\d|20\d\d)\b")


@dataclass(frozen=True)
class Evidence:
    """Where an item's answer (or, for yes/no, its stated fact) sits: a character span of a source document."""

    chunk_id: int
    doc_title: str
    start: int
    end: int
    text: str
    chunk_start: int = 0
    """Where the chunk the span was read from starts in the document: the span in that passage is
    `start - chunk_start`."""

    def to_dict(self) -> dict:
        return {"chunk_id": self.chunk_id, "doc_title": self.doc_title, "start": self.start, "end": self.end,
                "text": self.text, "chunk_start": self.chunk_start}


@dataclass(frozen=True)
class Fact:
    """One sentence of a chunk and one answer span in it (spaCy spans over the chunk's prose)."""

    chunk: StoredChunk
    sentence: object
    answer: object
    label: str

    @property
    def answer_text(self) -> str:
        return original(self.answer).strip("` ")

    @property
    def sentence_text(self) -> str:
        return original(self.sentence)

    def evidence(self) -> Evidence:
        """The answer's span in the chunk's document (a chunk is its document's text from `start_char` on)."""
        offset = self.answer.start_char + original(self.answer).index(self.answer_text)
        start = self.chunk.start_char + offset
        answer = self.answer_text
        return Evidence(self.chunk.id, self.chunk.title, start, start + len(answer), answer, self.chunk.start_char)


@dataclass(frozen=True)
class Draft:
    kind: str
    question: str
    reference: str
    evidence: tuple[Evidence, ...]
    sentences: tuple[str, ...]
    """The source sentences, which the question must not copy."""

    @property
    def chunk_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(e.chunk_id for e in self.evidence))

    @property
    def doc_titles(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.doc_title for e in self.evidence))


def facts_in(chunks: Sequence[StoredChunk], nlp) -> list[Fact]:
    """Every answer span of the chunks' prose that sits in a whole sentence (not in blanked code).

    spaCy's small English model parses backticked code as punctuation and noise, so each piece of inline
    code is read as a capitalised word of the same length (a name, which is what it is in the sentence);
    the doc keeps the real text in `user_data["original"]`, where questions take their words from.
    """
    proses = [prose_only(chunk.text, keep_inline_code=True) for chunk in chunks]
    docs = nlp.pipe(INLINE_CODE.sub(lambda code: "X" + "x" * (len(code.group()) - 1), prose) for prose in proses)
    facts = []
    for chunk, prose, doc in zip(chunks, proses, docs):
        doc.user_data["original"] = prose
        facts.extend(_facts(chunk, doc))
    return facts


def _shape(fact: Fact) -> tuple[int, bool, bool]:
    text = fact.answer_text
    return len(text.split()), any(c.isdigit() for c in text), text[:1].isupper()


def _facts(chunk: StoredChunk, doc) -> list[Fact]:
    """Code spans first, so a piece of code spaCy also tagged as a name keeps the CODE label."""
    spans = []
    for pattern in (INLINE_CODE, CODE_TOKEN):
        for match in pattern.finditer(original(doc[:])):
            span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
            if span is not None and match.group().strip("` "):
                spans.append((span, "CODE"))
    code = {token.i for span, _ in spans for token in span}
    spans += [(ent, ent.label_) for ent in doc.ents if ent.label_ not in SKIPPED_LABELS and not code & {t.i for t in ent}]
    facts, seen = [], set()
    for span, label in spans:
        sentence = span.sent
        if (span.start, span.end) in seen or len(sentence) < MIN_SENTENCE_WORDS or _BLANKED.search(sentence.text.strip()):
            continue
        seen.add((span.start, span.end))
        facts.append(Fact(chunk, sentence, span, label))
    return facts


def draft_single(fact: Fact) -> Draft | None:
    question = wh_question(fact.sentence, fact.answer, fact.label, fact.chunk.title)
    if question is None:
        return None
    return Draft("single", question, fact.answer_text, (fact.evidence(),), (fact.sentence_text,))


def draft_yes_no(fact: Fact, distractor: str | None) -> Draft | None:
    """A "yes" draft with no distractor; a "no" draft with the fact's span swapped for `distractor`."""
    replacement = distractor or original(fact.answer)
    question = yes_no_question(fact.sentence, fact.answer, fact.label, replacement, fact.chunk.title)
    if question is None:
        return None
    return Draft("yes_no", question, "no" if distractor else "yes", (fact.evidence(),), (fact.sentence_text,))


def draft_bridge(mention: Fact, fact: Fact, kind_noun: str) -> Draft | None:
    """`fact` is on page B; `mention` is a sentence of page A naming B's subject. The B question's subject
    becomes "the <kind> that <what A says of it>", so a reader must go through A to reach B."""
    question = wh_question(fact.sentence, fact.answer, fact.label, fact.chunk.title)
    description = relative_clause(mention.sentence, mention.answer, mention.label, mention.chunk.title)
    name = mention.answer_text
    at = question.lower().find(name.lower()) if question else -1
    if question is None or description is None or at < 0 or question[at + len(name):].startswith("'s"):
        return None
    question = f"{question[:at]}the {kind_noun} {description}{question[at + len(name):]}"
    evidence = (mention.evidence(), fact.evidence())
    return Draft("bridge", question, fact.answer_text, evidence, (mention.sentence_text, fact.sentence_text))


def dated_event(fact: Fact) -> str | None:
    """What a year-bearing fact dates, as the words a comparison asks with: "was released" (a participle),
    "debuted" (a past verb), or "film is older" ("X is a 1998 film"); None when the year dates nothing
    the parse can name."""
    if fact.label != "DATE" or not _YEAR.search(fact.answer_text):
        return None
    top = fact.answer.root
    head = top.head
    if top.dep_ == "nummod" and head.pos_ == "NOUN" and head.head.lemma_ == "be" and head.dep_ == "attr":
        return f"{head.lemma_.lower()} is older"
    verb = head.head if top.dep_ == "pobj" else head if top.dep_ == "npadvmod" else None
    if verb is None or verb.pos_ != "VERB" or verb.lemma_ == "be":
        return None
    if verb.tag_ == "VBN":
        return f"was {verb.lower_}"
    return verb.lower_ if verb.tag_ == "VBD" else None


def draft_comparison(first: Fact, second: Fact) -> Draft | None:
    """Two pages dating the same kind of event: which came first. The question names both pages, so a
    reader must find both; the answer is the page whose year is earlier."""
    event = dated_event(first)
    if event is None or event != dated_event(second):
        return None
    years = [int(_YEAR.search(f.answer_text).group()) for f in (first, second)]
    names = [page_name(f.chunk.title) for f in (first, second)]
    if years[0] == years[1] or names[0].lower() == names[1].lower():
        return None
    asked = f"Which {event}" if event.endswith("older") else f"Which {event} first"
    question = f"{asked}, {names[0]} or {names[1]}?"
    reference = names[0] if years[0] < years[1] else names[1]
    return Draft("comparison", question, reference, (first.evidence(), second.evidence()),
                 (first.sentence_text, second.sentence_text))


def same_label_distractor(
    fact: Fact, pool: Sequence[Fact], document_text: str, pick: Callable[[list[str]], str]
) -> str | None:
    """A span of the fact's kind and shape (words, digits) from another document that the fact's own document
    never mentions: a "no" question must be false, and not give itself away by its form."""
    others = [f.answer_text for f in pool
              if f.label == fact.label and f.chunk.doc_id != fact.chunk.doc_id and _shape(f) == _shape(fact)
              and f.answer_text.lower() not in document_text.lower()]
    return pick(others) if others else None

