"""RAG-Fusion: generate several search queries, retrieve for each, fuse the rankings by reciprocal rank.

One phrasing of a question retrieves one neighbourhood; several phrasings, fused, favour passages
that many of them find (Raudaschl, 2023, "RAG-Fusion"; fusion by RRF, Cormack et al., 2009). The
generator writes each variant after two worked examples of a different style (keywords, the
first sub-question, a paraphrase, the second sub-question), so greedy decoding still gives
distinct queries; a variant that merely repeats an example is dropped, and the original question
joins them unless switched off. Variants are kept in the trace. Cost: one short generation per variant, one
embedding and one search per query, a dictionary merge, one generation.
"""

from pydantic import Field

from lab.context import LabContext
from lab.core import BUDGET, Answer, Retrieval, Trace, examples
from lab.steps import (
    RRF_K,
    RerankParams,
    finish_retrieval,
    generate_answer,
    reciprocal_rank_fusion,
)

_RIVER_QUESTION = "Which river flows through the town where the engineer Mara Holt was born?"
QUERY_STYLES = (
    (
        "Search",
        (examples.BRIDGE_QUESTION, "Lumen 3 lamp battery maker city"),
        (_RIVER_QUESTION, "Mara Holt engineer birthplace river"),
    ),
    (
        "First find out",
        (examples.BRIDGE_QUESTION, "Who makes the battery of the Lumen 3 lamp?"),
        (_RIVER_QUESTION, "Where was Mara Holt born?"),
    ),
    (
        "Put another way",
        (examples.BRIDGE_QUESTION, "The Lumen 3 lamp's battery maker is based in which city?"),
        (_RIVER_QUESTION, "Name the river of Mara Holt's home town."),
    ),
    (
        "Then find out",
        (examples.BRIDGE_QUESTION, f"Which city is {examples.BRIDGE_ENTITY} based in?"),
        (_RIVER_QUESTION, "Which river flows through Port Elin?"),
    ),
)


def variant_prompt(question: str, style: tuple) -> str:
    """Two worked examples of one query style, then the question, for the model to continue."""
    label, *worked = style
    shown = "".join(f"Question: {q}\n{label}: {query}\n\n" for q, query in worked)
    return shown + f"Question: {question.strip()}\n{label}:"


class RAGFusion:
    name = "fusion"
    description = __doc__

    class Params(RerankParams):
        variants: int = Field(3, ge=1, le=len(QUERY_STYLES), description="Generated query variants, one per style.")
        include_question: bool = Field(True, description="Retrieve with the original question too.")
        depth: int = Field(20, ge=1, le=200, description="Passages retrieved per query before fusing.")
        rrf_k: int = Field(RRF_K, ge=1, le=1000, description="RRF constant k in 1 / (k + rank).")
        query_tokens: int = Field(32, json_schema_extra=BUDGET, ge=4, le=128, description="Longest variant, in generator tokens.")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()
        reranking = ("rerank",) if self.params.rerank else ()
        self.stages = ("expand", "embed", "retrieve", "fuse", *reranking, "generate")

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        trace = Trace()
        keep = self.params.candidates(ctx.settings.top_k)
        with trace.stage("expand"):
            queries = [question] if self.params.include_question else []
            for style in QUERY_STYLES[: self.params.variants]:
                prompt = variant_prompt(question, style)
                variant = trace.record(ctx.generator.generate(prompt, max_new_tokens=self.params.query_tokens))
                copied = variant in prompt.rsplit("Question:", 1)[0]
                if variant and not copied and variant.lower() not in {q.lower() for q in queries}:
                    queries.append(variant)
            queries = queries or [question]
            trace.note("queries", queries)
        with trace.stage("embed"):
            vectors = ctx.embedder.embed_many(queries)
        with trace.stage("retrieve"):
            rankings = [ctx.kb.dense_search(vector, max(self.params.depth, keep)) for vector in vectors]
        with trace.stage("fuse"):
            passages = reciprocal_rank_fusion(rankings, limit=keep, k=self.params.rrf_k)
        return finish_retrieval(question, passages, trace, self.params, ctx)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        return generate_answer(self.name, question, self.retrieve(question, ctx), ctx)
