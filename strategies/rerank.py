"""Rerank: retrieve a wide dense pool, let the generator judge each passage, keep the top-k.

Retrieve-then-rerank (Nogueira and Cho, 2019): a cheap retriever casts a wide net and a model that
reads passage and question together picks the best. Here the judge is the generator, since no
cross-encoder is available offline: a passage ranks by how likely the question is after it (UPR,
Sachan et al., 2022; `lab/steps/reranking.py`). Any other strategy can add the same stage with
`rerank=True`. Cost: one embedding, one search, one forward pass per pooled passage (20 by default),
one generation.
"""

from pydantic import BaseModel, ConfigDict, Field

from lab.context import LabContext
from lab.core import Answer, Retrieval, Trace
from lab.steps import generate_answer, rerank


class RerankRAG:
    name = "rerank"
    description = __doc__
    stages = ("embed", "retrieve", "rerank", "generate")

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        pool_size: int = Field(20, ge=2, le=100, description="Passages retrieved by dense search before reranking.")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        trace = Trace()
        with trace.stage("embed"):
            query_vector = ctx.embedder.embed(question)
        with trace.stage("retrieve"):
            pool = ctx.kb.dense_search(query_vector, max(self.params.pool_size, ctx.settings.top_k))
        with trace.stage("rerank"):
            passages = rerank(question, pool, ctx.generator, ctx.settings.top_k, trace)
            trace.note("pool", len(pool))
        return Retrieval(tuple(passages), trace)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        return generate_answer(self.name, question, self.retrieve(question, ctx), ctx)
