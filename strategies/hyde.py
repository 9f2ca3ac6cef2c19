"""HyDE: retrieve with a drafted answer passage, not the bare question.

A short question embeds far from the passages that answer it; a passage-shaped draft, even one with
wrong facts, lands nearer (Hypothetical Document Embeddings, Gao et al., 2022). The generator drafts
N passages, each prompted with a different pair of worked examples so greedy decoding still gives N
distinct drafts; their embeddings, averaged with the question's as in the paper unless switched off, make the
query vector. The drafts are kept in the trace. With a weak generator the drafts can pull retrieval
away from the question, as the paper saw with supervised encoders; the retrieval bench shows how far.
Cost: N generations, N + 1 embeddings, one search, one generation (plus the rerank stage if on).
"""

import numpy as np
from pydantic import Field

from lab.context import LabContext
from lab.core import BUDGET, Answer, Retrieval, Trace, examples
from lab.steps import RerankParams, finish_retrieval, generate_answer

DRAFT_EXAMPLES = (
    (examples.DIRECT_QUESTION, examples.MANUAL_DRAFT),
    (examples.TOWN_QUESTION, examples.TOWN_PASSAGE),
    (
        "Do the Lumen 3 and the Lumen 5 lamps use the same battery?",
        "The Lumen 3 lamp uses a battery made by Voltic. The Lumen 5 lamp uses a larger battery made by Ampere Works.",
    ),
    (examples.BRIDGE_QUESTION, "The Lumen 3 lamp's battery is made by Voltic, a battery maker based in the city of Tarn."),
)


def draft_prompt(question: str, draft_number: int) -> str:
    """Two worked examples, rotating with the draft number, then the question for the model to continue."""
    shown_examples = [DRAFT_EXAMPLES[(draft_number + i) % len(DRAFT_EXAMPLES)] for i in range(2)]
    shown = "".join(f"Question: {q}\nPassage: {passage}\n\n" for q, passage in shown_examples)
    return shown + f"Question: {question.strip()}\nPassage:"


class HyDE:
    name = "hyde"
    description = __doc__

    class Params(RerankParams):
        drafts: int = Field(1, ge=1, le=len(DRAFT_EXAMPLES), description="Hypothetical passages drafted.")
        include_question: bool = Field(True, description="Average the question's embedding with the drafts'.")
        draft_tokens: int = Field(64, json_schema_extra=BUDGET, ge=8, le=256, description="Longest draft, in generator tokens.")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()
        reranking = ("rerank",) if self.params.rerank else ()
        self.stages = ("draft", "embed", "retrieve", *reranking, "generate")

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        trace = Trace()
        with trace.stage("draft"):
            drafts = []
            for draft_number in range(self.params.drafts):
                prompt = draft_prompt(question, draft_number)
                drafts.append(trace.record(ctx.generator.generate(prompt, max_new_tokens=self.params.draft_tokens)))
            trace.note("drafts", drafts)
        with trace.stage("embed"):
            texts = [draft for draft in drafts if draft] + ([question] if self.params.include_question else [])
            vectors = ctx.embedder.embed_many(texts or [question])
            query_vector = vectors.mean(axis=0)
            query_vector = (query_vector / np.linalg.norm(query_vector)).astype(np.float32)
        with trace.stage("retrieve"):
            passages = ctx.kb.dense_search(query_vector, self.params.candidates(ctx.settings.top_k))
        return finish_retrieval(question, passages, trace, self.params, ctx)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        return generate_answer(self.name, question, self.retrieve(question, ctx), ctx)
