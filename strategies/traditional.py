"""Traditional RAG: embed the question, take the top-k chunks by cosine similarity, generate.

The baseline every other strategy is measured against (Lewis et al., 2020, in its simplest
retrieve-then-read form). Cost: one embedding, one FAISS search, one generation.
"""

from pydantic import BaseModel, ConfigDict

from lab.context import LabContext
from lab.core import Answer, Retrieval, Trace
from lab.steps import generate_answer


class TraditionalRAG:
    name = "traditional"
    description = __doc__
    stages = ("embed", "retrieve", "generate")

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        trace = Trace()
        with trace.stage("embed"):
            query_vector = ctx.embedder.embed(question)
        with trace.stage("retrieve"):
            passages = ctx.kb.dense_search(query_vector, ctx.settings.top_k)
        return Retrieval(tuple(passages), trace)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        return generate_answer(self.name, question, self.retrieve(question, ctx), ctx)
