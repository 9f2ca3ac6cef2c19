"""Hybrid: BM25 and dense search, fused by reciprocal rank, then generate.

Keyword and dense retrieval fail on different questions: BM25 misses paraphrases, embeddings blur
names and numbers. Reciprocal rank fusion (Cormack et al., 2009; `lab/steps/fusion.py`) merges the two
rankings by rank alone, so neither's score scale matters. Cost: one embedding, two searches, a
dictionary merge, one generation.
"""

from pydantic import Field

from lab.context import LabContext
from lab.core import Answer, Retrieval, Trace
from lab.steps import (
    RRF_K,
    RerankParams,
    finish_retrieval,
    generate_answer,
    reciprocal_rank_fusion,
)


class HybridRAG:
    name = "hybrid"
    description = __doc__

    class Params(RerankParams):
        rrf_k: int = Field(RRF_K, ge=1, le=1000, description="RRF constant k in 1 / (k + rank).")
        depth: int = Field(20, ge=1, le=200, description="Candidates taken from each retriever before fusing.")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()
        reranking = ("rerank",) if self.params.rerank else ()
        self.stages = ("embed", "dense-search", "keyword-search", "fuse", *reranking, "generate")

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        trace = Trace()
        keep = self.params.candidates(ctx.settings.top_k)
        depth = max(self.params.depth, keep)
        with trace.stage("embed"):
            query_vector = ctx.embedder.embed(question)
        with trace.stage("dense-search"):
            dense = ctx.kb.dense_search(query_vector, depth)
        with trace.stage("keyword-search"):
            keyword = ctx.kb.keyword_search(question, depth)
        with trace.stage("fuse"):
            passages = reciprocal_rank_fusion([dense, keyword], limit=keep, k=self.params.rrf_k)
        return finish_retrieval(question, passages, trace, self.params, ctx)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        return generate_answer(self.name, question, self.retrieve(question, ctx), ctx)
