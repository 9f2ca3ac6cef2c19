"""Reranking with the generator as judge: a wide candidate pool, cut to top-k by judged relevance.

A retriever ranks by one vector or one bag of words; reading the passage beside the question judges
better. With no cross-encoder available offline, the judge is the generator itself, scored pointwise
as monoT5 scores "true"/"false" (Nogueira et al., 2020): a passage's relevance is how much likelier
" yes" is than " no" after "Relevant:" in a completion prompt. Nothing is generated or parsed.

Any strategy switches it on by taking `RerankParams` as the base of its `Params` and running `rerank`
in a stage named "rerank". Cost: one forward pass over passage and question per candidate (about
150 tokens each), no decoding. Left out: listwise reranking (RankGPT), which needs an instruction
model, and scoring the question's likelihood given the passage (UPR, Sachan et al., 2022).
"""

from collections.abc import Sequence
from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field

from lab.contracts import LabContext, Passage, Retrieval
from lab.generation import Generator
from lab.tracing import Trace

RELEVANCE_CHOICES = (" yes", " no")

_EXAMPLES = (
    "Passage (Marie Curie): Marie Curie was a Polish-born physicist who lived in France.\n"
    "Question: Which country was Marie Curie born in?\n"
    "Relevant: yes\n\n"
    "Passage (Eiffel Tower): The Eiffel Tower is a wrought-iron lattice tower in Paris.\n"
    "Question: Which country was Marie Curie born in?\n"
    "Relevant: no\n\n"
)


class RerankParams(BaseModel):
    """Parameters of the rerank stage, shared by every strategy that can switch it on."""

    model_config = ConfigDict(extra="forbid")

    rerank: bool = Field(False, description="Rerank a wider candidate pool with the generator as judge.")
    rerank_pool: int = Field(20, ge=2, le=100, description="Candidates retrieved for reranking when rerank is on.")

    def candidates(self, top_k: int) -> int:
        """How many passages to retrieve before the final cut to top_k."""
        return max(self.rerank_pool, top_k) if self.rerank else top_k


def relevance_prompt(question: str, passage: Passage, max_chars: int = 400) -> str:
    text = " ".join(passage.text.split())[:max_chars]
    return _EXAMPLES + f"Passage ({passage.doc_title}): {text}\nQuestion: {question.strip()}\nRelevant:"


def relevance(question: str, passage: Passage, generator: Generator) -> float:
    """Log-odds of " yes" over " no": above zero, the generator judges the passage relevant."""
    yes, no = generator.score(relevance_prompt(question, passage), RELEVANCE_CHOICES)
    return yes - no


def rerank(question: str, passages: Sequence[Passage], generator: Generator, top_k: int) -> list[Passage]:
    """The top_k passages by judged relevance, each carrying its log-odds; ties keep the retriever's order."""
    judged = [replace(passage, score=relevance(question, passage, generator)) for passage in passages]
    return sorted(judged, key=lambda passage: -passage.score)[:top_k]


def finish_retrieval(question: str, passages: Sequence[Passage], trace: Trace, params: RerankParams, ctx: LabContext) -> Retrieval:
    """Close a strategy's retrieval: rerank in a stage of its own when its parameters ask for it."""
    if params.rerank:
        with trace.stage("rerank"):
            passages = rerank(question, passages, ctx.generator, ctx.settings.top_k)
    return Retrieval(tuple(passages), trace)
