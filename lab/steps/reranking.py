"""Judging passages with the generator: a ranking for the rerank stage, a relevance grade for filters.

A retriever ranks by one vector or one bag of words; reading the passage beside the question judges
better. With no cross-encoder available offline, the judge is the generator itself, and it judges by
scoring text, never by generating or parsing it:

- Ranking (the rerank stage) scores how likely the question is after the passage: unsupervised
  passage reranking, UPR (Sachan et al., 2022). A passage that could have prompted the question is
  one that holds what it asks about. It needs no calibration, only an order, which suits a small
  base model: on the 20 bundled questions it lifts dense recall@5 from 0.75 to 0.80, where the
  yes/no grade below, used as a ranking, dropped it to 0.475 (`bench/retrieval.py`).
- Grading (CRAG's and Self-RAG's filters) needs a yes-or-no with a natural threshold: the log-odds
  of " yes" over " no" after "Relevant:", as monoT5 scores "true"/"false" (Nogueira et al., 2020).

Any strategy switches the rerank stage on by taking `RerankParams` as the base of its `Params` and
calling `finish_retrieval`. Cost: one forward pass over passage and question per candidate (about
170 tokens each), no decoding. Left out: listwise reranking (RankGPT), which needs an instruction model.
"""

from collections.abc import Sequence
from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field

from lab.context import LabContext
from lab.core import examples
from lab.core.contracts import Passage, Retrieval
from lab.core.tracing import Scores, Trace
from lab.llm.backend import Generator

RELEVANCE_CHOICES = (" yes", " no")

_WORKED_PAIR = f"Passage ({examples.MANUAL_TITLE}): {examples.MANUAL_PASSAGE}\nQuestion: {examples.DIRECT_QUESTION}\n"
_QUESTION_EXAMPLE = _WORKED_PAIR + "\n"
_EXAMPLES = (
    f"{_WORKED_PAIR}Relevant: yes\n\n"
    f"Passage ({examples.UNRELATED_TITLE}): {examples.UNRELATED_PASSAGE}\nQuestion: {examples.DIRECT_QUESTION}\n"
    "Relevant: no\n\n"
)


class RerankParams(BaseModel):
    """Parameters of the rerank stage, shared by every strategy that can switch it on."""

    model_config = ConfigDict(extra="forbid")

    rerank: bool = Field(False, description="Rerank a wider pool by the question's likelihood after each passage.")
    rerank_pool: int = Field(20, ge=2, le=100, description="Candidates retrieved for reranking when rerank is on.")
    """Chosen by hand, not searched, as `rerank`'s `pool_size`: that pool lifts dense recall@5 from 0.75 to 0.80 on all
    20 HotpotQA demo questions, with no held-out half (`bench/retrieval.py --strategies rerank --no-generate`)."""

    def candidates(self, top_k: int) -> int:
        """How many passages to retrieve before the final cut to top_k."""
        return max(self.rerank_pool, top_k) if self.rerank else top_k


def relevance_prompt(question: str, passage: Passage, max_chars: int = 400) -> str:
    text = " ".join(passage.text.split())[:max_chars]
    return _EXAMPLES + f"Passage ({passage.doc_title}): {text}\nQuestion: {question.strip()}\nRelevant:"


def relevance(question: str, passage: Passage, generator: Generator, trace: Trace | None = None) -> float:
    """Log-odds of " yes" over " no": above zero, the generator judges the passage relevant."""
    yes, no = _scored(generator.score(relevance_prompt(question, passage), RELEVANCE_CHOICES), trace)
    return yes - no


def question_prompt(passage: Passage, max_chars: int = 400) -> str:
    text = " ".join(passage.text.split())[:max_chars]
    return _QUESTION_EXAMPLE + f"Passage ({passage.doc_title}): {text}\nQuestion:"


def question_likelihood(question: str, passage: Passage, generator: Generator, trace: Trace | None = None) -> float:
    """Log-likelihood of the question's tokens after the passage; higher ranks the passage higher."""
    return _scored(generator.score(question_prompt(passage), [" " + question.strip()]), trace)[0]


def rerank(
    question: str, passages: Sequence[Passage], generator: Generator, top_k: int, trace: Trace | None = None
) -> list[Passage]:
    """The top_k passages by question likelihood, each carrying it as its score; ties keep the retriever's order.

    A backend that cannot score gives every passage the same score, so the retriever's order stands.
    """
    judged = [replace(passage, score=question_likelihood(question, passage, generator, trace)) for passage in passages]
    return sorted(judged, key=lambda passage: -passage.score)[:top_k]


def finish_retrieval(question: str, passages: Sequence[Passage], trace: Trace, params: RerankParams, ctx: LabContext) -> Retrieval:
    """Close a strategy's retrieval: rerank in a stage of its own when its parameters ask for it."""
    if params.rerank:
        with trace.stage("rerank"):
            passages = rerank(question, passages, ctx.generator, ctx.settings.top_k, trace)
    return Retrieval(tuple(passages), trace)


def _scored(scores: Scores, trace: Trace | None) -> Scores:
    return trace.record_scores(scores) if trace is not None else scores
