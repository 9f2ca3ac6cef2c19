"""BM25: keyword retrieval alone, then generate.

Exact terms (names, codes, rare words) that an embedding blurs are what BM25 matches best
(Robertson and Zaragoza, 2009); on entity-heavy questions it is a strong baseline for dense search.
Cost: one inverted-index lookup, one generation; no embedding at query time.
"""

from lab.context import LabContext
from lab.core import Answer, Retrieval, Trace
from lab.steps import RerankParams, finish_retrieval, generate_answer


class BM25RAG:
    name = "bm25"
    description = __doc__

    class Params(RerankParams):
        pass

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()
        reranking = ("rerank",) if self.params.rerank else ()
        self.stages = ("retrieve", *reranking, "generate")

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        trace = Trace()
        with trace.stage("retrieve"):
            passages = ctx.kb.keyword_search(question, self.params.candidates(ctx.settings.top_k))
        return finish_retrieval(question, passages, trace, self.params, ctx)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        return generate_answer(self.name, question, self.retrieve(question, ctx), ctx)
