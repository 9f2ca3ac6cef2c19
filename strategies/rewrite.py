"""Rewrite-Retrieve-Read: the generator turns the question into a search query, which retrieves.

A question is phrased for a reader, not an index: filler words and the shape of the ask dilute the
query. Ma et al. (2023) add a rewrite step before retrieval; here the generator completes
"Search query:" after three worked examples, and dense search runs on the question followed by that
query, as query2doc (Wang et al., 2023) appends its generated text to the query rather than replacing it.
A 270M rewriter drops the terms that find the page ("What environment variable makes foo-bar …" became
"environment variable"): searched alone, its queries found the gold pages for R@5 0.68 of the docs
questions and 0.60 of the HotpotQA ones, against 0.94 and 0.75 appended to the question (one run each).
If the rewrite comes back empty or repeats an example, the question is searched alone. The query is kept
in the trace; the answer is still generated from the original question. Cost: one short generation, one
embedding, one search, one generation. Left out: the paper's rewriter trained by reinforcement learning.
"""

from pydantic import Field

from lab.context import LabContext
from lab.core import BUDGET, Answer, Retrieval, Trace
from lab.llm import REWRITE_EXAMPLES, rewrite_prompt
from lab.steps import RerankParams, finish_retrieval, generate_answer


class RewriteRetrieveRead:
    name = "rewrite"
    description = __doc__

    class Params(RerankParams):
        query_tokens: int = Field(32, json_schema_extra=BUDGET, ge=4, le=128, description="Longest rewritten query, in generator tokens.")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()
        reranking = ("rerank",) if self.params.rerank else ()
        self.stages = ("rewrite", "embed", "retrieve", *reranking, "generate")

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        trace = Trace()
        with trace.stage("rewrite"):
            prompt = rewrite_prompt(question)
            query = trace.record(ctx.generator.generate(prompt, max_new_tokens=self.params.query_tokens))
            if not query or query in REWRITE_EXAMPLES:
                query = ""
            trace.note("query", query or "(none usable: the question alone is searched)")
        with trace.stage("embed"):
            query_vector = ctx.embedder.embed(f"{question.strip()}\n{query}" if query else question)
        with trace.stage("retrieve"):
            passages = ctx.kb.dense_search(query_vector, self.params.candidates(ctx.settings.top_k))
        return finish_retrieval(question, passages, trace, self.params, ctx)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        return generate_answer(self.name, question, self.retrieve(question, ctx), ctx)
