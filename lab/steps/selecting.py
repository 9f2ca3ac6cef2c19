"""Answer selection: rank candidate answers from the passages by the generator's likelihood.

A base model asked to write an answer paraphrases around it ("The default lazy setting is …"); asked
how likely each short span of the evidence is as the answer, it ranks the right span first far more
often. Candidates come from `lab.steps.candidates`. Each is scored as the continuation " span\n" after
the answer prompt: the newline is the answer's end, so a span is not preferred merely for being a
prefix of a longer one. The backend scores every candidate after one evaluation of the shared prompt
(llama-cpp decodes them side by side on the prompt's cache), so the passages are encoded once.

Likelihood alone favours spans the model would say without reading (frequent, generic strings), so
the ranking can add light priors, each weighed in `RankingWeights`: the likelihood without the
passages (a partial PMI; subtracting all of it favours long rare spans), the question's expected
answer type, how many passages carry the span, its passage rank, how close it sits to the question's
words, and its overlap with an answer the model writes freely (which costs one short generation).
`WEIGHTS` says which of them earned a place on held-out questions.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from lab.context import LabContext
from lab.core.contracts import Passage
from lab.core.text import token_overlap
from lab.core.tracing import Trace
from lab.llm.backend import Generator
from lab.llm.prompts import ANSWER_STOP, closed_book_prompt
from lab.steps.candidates import Candidate, QuestionShape, answer_candidates, question_shape

SHOWN_CANDIDATES = 5
"""Candidates the trace shows; display only, it changes no answer."""


@dataclass(frozen=True)
class RankingWeights:
    calibration: float
    """Share of the closed-book likelihood subtracted (0 = plain likelihood, 1 = PMI)."""
    answer_type: float
    """Nats added when the candidate's entity label is one the question's form expects."""
    agreement: float
    """Nats per log of the number of retrieved passages that carry the candidate."""
    passage_rank: float
    """Nats taken off per rank of the first passage the candidate appears in."""
    closeness: float
    """Nats times the share of the question's content words in the candidate's sentence."""
    generation: float
    """Nats times the candidate's token overlap with the answer the model wrote freely (0 skips writing one)."""


WEIGHTS = RankingWeights(
    calibration=0.0, answer_type=0.0, agreement=1.0, passage_rank=0.0, closeness=6.0, generation=0.0
)
"""Chosen by grid search on the even-numbered questions of both demo corpora (traditional retrieval), then
read on the odd ones; docs/answer-quality.md gives both halves. Closeness carried most of the gain; the type
prior, passage rank, calibration and agreement with a written answer added nothing held out, so they
are off, and selecting costs no generation."""


@dataclass(frozen=True)
class CandidateFeatures:
    """What the ranking weighs for one candidate, before any weight: scored once, weighed any number of ways.

    `bench/ranking_weights.py` keeps these per question and searches `RankingWeights` over them without
    scoring again."""

    text: str
    likelihood: float
    closed_book: float
    """0 unless the closed-book likelihood was scored (only a non-zero calibration needs it)."""
    answer_type: float
    """1 when the candidate's entity label is one the question's form expects, else 0."""
    agreement: float
    """Log of the number of retrieved passages that carry the candidate."""
    passage_rank: int
    closeness: float
    generation: float
    """Token overlap with the answer the model wrote freely (0 when none was written)."""


@dataclass(frozen=True)
class RankedCandidate:
    text: str
    score: float
    likelihood: float
    closed_book: float

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "score": round(self.score, 3),
            "likelihood": round(self.likelihood, 3),
            "closed_book": round(self.closed_book, 3),
        }


def resolved_answer_mode(setting: str, generator: Generator) -> str:
    """'auto' selects with a base model that reads log-likelihoods, and generates otherwise."""
    if setting != "auto":
        return setting
    capabilities = generator.capabilities
    return "select" if capabilities.base_model and capabilities.can_score else "generate"


def candidate_features(
    candidate: Candidate, likelihood: float, closed_book: float, shape: QuestionShape, generated: str = ""
) -> CandidateFeatures:
    return CandidateFeatures(
        text=candidate.text,
        likelihood=likelihood,
        closed_book=closed_book,
        answer_type=1.0 if shape.expected_labels & candidate.labels else 0.0,
        agreement=math.log(max(len(candidate.passages), 1)),
        passage_rank=candidate.first_rank,
        closeness=candidate.closeness,
        generation=token_overlap(candidate.text, generated),
    )


def weighted_score(features: CandidateFeatures, weights: RankingWeights) -> float:
    score = features.likelihood - weights.calibration * features.closed_book
    score += weights.answer_type * features.answer_type
    score += weights.agreement * features.agreement
    score += weights.closeness * features.closeness
    score += weights.generation * features.generation
    return score - weights.passage_rank * features.passage_rank


def ranking_score(
    candidate: Candidate,
    likelihood: float,
    closed_book: float,
    shape: QuestionShape,
    weights: RankingWeights,
    generated: str = "",
) -> float:
    return weighted_score(candidate_features(candidate, likelihood, closed_book, shape, generated), weights)


def score_candidates(
    question: str,
    passages: Sequence[Passage],
    prompt: str,
    ctx: LabContext,
    trace: Trace,
    generated: str = "",
    closed_book: bool = False,
) -> list[CandidateFeatures]:
    """Every candidate the passages offer, with its features: one scoring call after the prompt, and one after
    the closed-book prompt when `closed_book` asks for it. Empty when the passages offer no candidate."""
    nlp = ctx.extractor.nlp
    shape = question_shape(question, nlp)
    trace.note("question_shape", _shape_note(shape))
    candidates = answer_candidates(question, passages, nlp, shape)
    if not candidates:
        return []
    continuations = [f" {candidate.text}{ANSWER_STOP[0]}" for candidate in candidates]
    likelihoods = trace.record_scores(ctx.generator.score(prompt, continuations))
    bare_scores = [0.0] * len(candidates)
    if closed_book:
        bare = closed_book_prompt(question, ctx.settings.closed_book_template)
        bare_scores = list(trace.record_scores(ctx.generator.score(bare, continuations)))
    return [
        candidate_features(c, lp, cb, shape, generated) for c, lp, cb in zip(candidates, likelihoods, bare_scores)
    ]


def rank_candidates(
    question: str,
    passages: Sequence[Passage],
    prompt: str,
    ctx: LabContext,
    trace: Trace,
    generated: str = "",
    weights: RankingWeights = WEIGHTS,
) -> list[RankedCandidate]:
    """Candidates best first; empty when the passages offer none (the caller then keeps `generated`)."""
    features = score_candidates(
        question, passages, prompt, ctx, trace, generated, closed_book=bool(weights.calibration)
    )
    if not features:
        return []
    ranked = [RankedCandidate(f.text, weighted_score(f, weights), f.likelihood, f.closed_book) for f in features]
    ranked.sort(key=lambda r: -r.score)
    trace.note("candidates", [r.to_dict() for r in ranked[:SHOWN_CANDIDATES]])
    trace.note("candidates_scored", len(ranked))
    return ranked


def _shape_note(shape: QuestionShape) -> str:
    if shape.yes_no:
        return "yes/no"
    if shape.options:
        return "one of: " + " | ".join(shape.options)
    return "expects " + ", ".join(sorted(shape.expected_labels)) if shape.expected_labels else "open"
