"""The checks a drafted item must pass to be kept, whatever wrote it; each failure has a reason, counted.

Text checks first (cheap), then the two that call the generator:
- `span_missing`: the evidence span is not where the draft says in its source document;
- `answer_in_question`: the question gives its answer away in its own words (a comparison names both
  options by design, a yes/no question its fact);
- `copies_sentence`: the question repeats a long run of its source sentence, which makes keyword search
  look better than it is on questions people write;
- `duplicate`: nearly the same question, or one with the same evidence span, is already kept;
- `closed_book_answers`: the generator answers it from the question alone (the no-retrieval control);
- `reader_misses`: the read step, given exactly the cited passages, does not reach the reference.
The closed-book check is skipped for yes/no items: a base model answers those from its leaning toward
"yes", not from knowing, so the check would keep every "no" item and drop every "yes" one; balance comes
from drafting both answers instead.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lab.context import LabContext
from lab.core.text import token_overlap
from lab.core.tracing import Trace
from lab.steps.reading import closed_book_answer, read_passages
from lab.testsets.drafting import Draft

REASONS = (
    "over_document_share", "answer_balance", "span_missing", "answer_in_question",
    "copies_sentence", "duplicate", "closed_book_answers", "reader_misses",
)
"""Every reason a drafted question is dropped, in the order the checks run: `over_document_share` is a
document that already gave its share of items,
`answer_balance` a yes/no item whose answer already leads (both answers are kept in equal numbers)."""
MAX_SHARED_WORDS = 6
"""Longest run of words a question may share with its source sentence. Chosen by hand before any set was
generated, not searched: a question that copies a whole clause is a keyword lookup."""
DUPLICATE_OVERLAP = 0.8
"""Share of words two questions may share before the later one counts as a duplicate. Chosen by hand."""
ANSWER_MATCH = 0.5
"""Token F1 at which an answer counts as the reference: what a reader must reach and the closed book must
not. Chosen by hand, as SQuAD-style evaluations count a partial match."""
_WORD = re.compile(r"\w+")


def text_rejection(draft: Draft, kept: Sequence[Draft], document_text: Callable[[int], str]) -> str | None:
    """The first text check the draft fails, or None. `document_text(chunk_id)` is the chunk's whole document."""
    if any(document_text(e.chunk_id)[e.start : e.end] != e.text for e in draft.evidence):
        return "span_missing"
    if draft.kind in ("single", "bridge") and _words(draft.reference) <= _words(draft.question):
        return "answer_in_question"
    if any(longest_shared_run(draft.question, sentence) > MAX_SHARED_WORDS for sentence in draft.sentences):
        return "copies_sentence"
    if any(_similar(draft.question, other.question) or set(draft.evidence) & set(other.evidence) for other in kept):
        return "duplicate"
    return None


@dataclass(frozen=True)
class ModelChecks:
    """What the generator answered for a draft: from the question alone (None where that check is skipped,
    for yes/no) and from the cited passages (None where the closed book already failed the draft)."""

    closed_book: str | None
    reader: str | None

    def rejection(self, reference: str) -> str | None:
        if self.closed_book is not None and matches(self.closed_book, reference):
            return "closed_book_answers"
        if self.reader is None or not matches(self.reader, reference):
            return "reader_misses"
        return None

    def to_dict(self) -> dict:
        return {"closed_book_answer": self.closed_book, "reader_answer": self.reader}


def model_checks(draft: Draft, ctx: LabContext) -> ModelChecks:
    """At most one closed-book answer and one read of the cited passages; the read is skipped when the
    closed book already gives the reference away."""
    trace = Trace()
    with trace.stage("check"):
        closed_book = closed_book_answer(draft.question, ctx, trace) if draft.kind != "yes_no" else None
        if closed_book is not None and matches(closed_book, draft.reference):
            return ModelChecks(closed_book, None)
        passages = ctx.kb.passages([(chunk_id, 1.0) for chunk_id in draft.chunk_ids])
        return ModelChecks(closed_book, read_passages(draft.question, passages, ctx, trace))


def matches(answer: str, reference: str) -> bool:
    return token_overlap(answer, reference) >= ANSWER_MATCH


def longest_shared_run(question: str, sentence: str) -> int:
    """Length of the longest run of words, compared lower-cased, that the question and the sentence share."""
    left, right = _WORD.findall(question.lower()), _WORD.findall(sentence.lower())
    best, previous = 0, [0] * (len(right) + 1)
    for word in left:
        current = [0] * (len(right) + 1)
        for j, other in enumerate(right, start=1):
            if word == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _similar(a: str, b: str) -> bool:
    left, right = _words(a), _words(b)
    return bool(left | right) and len(left & right) / len(left | right) >= DUPLICATE_OVERLAP
