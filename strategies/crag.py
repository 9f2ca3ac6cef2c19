"""Corrective RAG: grade what dense search found, keep what is relevant, correct with a keyword search when too little is.

Retrieve-then-read trusts whatever the retriever returns. CRAG (Yan et al., 2024) puts a retrieval
evaluator in between: each passage is graded, the relevant ones are kept, and when too few pass, the
question is rewritten and searched again elsewhere (the paper searches the web; here BM25 over the same
corpus, which catches the names and rare words embeddings blur). The grade is the generator's log-odds
of " yes" over " no" after "Relevant:" (`lab.reranking`); the rewrite is Rewrite-Retrieve-Read's
completion prompt. The "correct" stage always appears in the trace and says which action it took.

Cost: one embedding and search, one scored forward pass per graded passage, and, when correcting, one
short generation and a BM25 search; then one generation. Left out: the paper's fine-tuned T5 evaluator,
its decompose-then-recompose filtering of passages into strips, and web search.
"""

from pydantic import BaseModel, ConfigDict, Field

from lab.context import LabContext
from lab.core import BUDGET, Answer, Passage, Retrieval, Trace
from lab.llm import rewrite_prompt
from lab.steps import generate_answer, relevance


class CorrectiveRAG:
    name = "crag"
    description = __doc__
    stages = ("retrieve", "grade", "correct", "generate")

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        graded: int = Field(5, ge=1, le=50, description="Dense passages graded, best first; the rest follow ungraded.")
        threshold: float = Field(0.0, ge=-10.0, le=10.0, description="Log-odds of relevance a passage must exceed.")
        min_relevant: int = Field(2, ge=0, le=50, description="Fewer relevant passages than this triggers the correction.")
        query_tokens: int = Field(32, json_schema_extra=BUDGET, ge=4, le=128, description="Longest rewritten query, in generator tokens.")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        trace = Trace()
        top_k = ctx.settings.top_k
        with trace.stage("retrieve"):
            found = ctx.kb.dense_search(ctx.embedder.embed(question), max(top_k, self.params.graded))
        with trace.stage("grade"):
            graded = [(p, relevance(question, p, ctx.generator, trace)) for p in found[: self.params.graded]]
            kept = [p for p, grade in sorted(graded, key=lambda item: -item[1]) if grade > self.params.threshold]
            trace.note("grades", {p.doc_title: round(grade, 2) for p, grade in graded})
            trace.note("kept", [p.doc_title for p in kept])
        with trace.stage("correct"):
            searched: list[Passage] = []
            if len(kept) >= self.params.min_relevant:
                trace.note("action", f"{len(kept)} relevant passages; kept them, no correction")
            else:
                prompt = rewrite_prompt(question)
                query = trace.record(ctx.generator.generate(prompt, max_new_tokens=self.params.query_tokens))
                query = query if query and query not in prompt else question
                searched = ctx.kb.keyword_search(query, top_k)
                trace.note("action", f"only {len(kept)} relevant passages; rewrote the question and searched keywords")
                trace.note("query", query)
                trace.note("searched", [p.doc_title for p in searched])
            passages: dict[int, Passage] = {}
            for passage in [*kept, *searched, *found[self.params.graded :]]:
                passages.setdefault(passage.chunk_id, passage)
        return Retrieval(tuple(passages.values())[:top_k], trace)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        return generate_answer(self.name, question, self.retrieve(question, ctx), ctx)
