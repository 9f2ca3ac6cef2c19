"""The read step of retrieve-then-read: from the passages a strategy retrieved to one short answer.

Strategies that differ only in how they find passages share it, so their answers differ only
through retrieval, which is what a side-by-side comparison should isolate. The setting `answer_mode`
says how it reads: `generate` writes the answer and tidies it to its first sentence; `select` ranks
candidate spans of the passages (`lab.steps.selecting`); `auto` picks by the generator's capabilities.
"""

import re
from collections.abc import Sequence

from lab.context import LabContext
from lab.core.contracts import Answer, Passage, Retrieval
from lab.core.tracing import Trace
from lab.llm.prompts import ANSWER_STOP, answer_prompt, closed_book_prompt
from lab.steps.candidates import asks_yes_or_no
from lab.steps.selecting import WEIGHTS, rank_candidates, resolved_answer_mode

_ECHOED_LABEL = re.compile(r"^(?:answer|question|passage\s*\d*(?:\s*\([^)]*\))?)\s*:\s*", re.IGNORECASE)
_YES_NO = re.compile(r"^(yes|no)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]]{2}[.!?])\s+(?=[A-Z0-9\"'(])")
"""A sentence ends after a word of two or more lower-case letters or digits: "S.M. Entertainment", "U.S. Army" go on."""


def generate_answer(strategy: str, question: str, retrieval: Retrieval, ctx: LabContext) -> Answer:
    """Answer from the retrieved passages in a stage named "generate", on the retrieval's trace."""
    with retrieval.trace.stage("generate"):
        text = read_passages(question, retrieval.passages, ctx, retrieval.trace)
    return Answer(strategy, text, retrieval.passages, retrieval.trace)


def read_passages(
    question: str,
    passages: Sequence[Passage],
    ctx: LabContext,
    trace: Trace,
    notes: Sequence[str] = (),
    max_new_tokens: int | None = None,
) -> str:
    """The answer to `question` from `passages` (and any notes); called inside the caller's trace stage."""
    prompt = answer_prompt(question, passages, ctx.settings.answer_template, notes=notes)
    mode = resolved_answer_mode(ctx.settings.answer_mode, ctx.generator)
    trace.note("answer_mode", mode)

    def write() -> str:
        text = trace.record(ctx.generator.generate(prompt, stop=ANSWER_STOP, max_new_tokens=max_new_tokens))
        return tidy_answer(text, question)

    if mode == "generate":
        return write()
    written = write() if WEIGHTS.generation else ""
    if ranked := rank_candidates(question, passages, prompt, ctx, trace, generated=written):
        return ranked[0].text
    trace.note("fallback", "the passages offer no candidate answer; the answer is written")
    return written or write()


def closed_book_answer(question: str, ctx: LabContext, trace: Trace) -> str:
    """What the generator answers from memory alone: the no-retrieval control, and the test-set check that a
    question does not give its answer away."""
    prompt = closed_book_prompt(question, ctx.settings.closed_book_template)
    return tidy_answer(trace.record(ctx.generator.generate(prompt, stop=ANSWER_STOP)), question)


def tidy_answer(text: str, question: str) -> str:
    """A generated answer cut to what answers: no echoed labels or question, one sentence, bare yes/no.

    A base model often restates the question, copies a "Passage 2 (…):" label, or goes on past the
    answer; every extra word costs token F1 and reads worse side by side.
    """
    text = " ".join(text.split())
    while (stripped := _ECHOED_LABEL.sub("", text)) != text:
        text = stripped
    asked = " ".join(question.split())
    if asked and asked.lower() in text.lower():
        start = text.lower().index(asked.lower())
        text = (text[:start] + text[start + len(asked) :]).strip()
    text = _SENTENCE_END.split(text, maxsplit=1)[0]
    if asks_yes_or_no(question) and (match := _YES_NO.match(text)):
        return match.group(1).lower()
    return text.rstrip(".").strip()
