"""Traditional RAG: embed the question, take the top-k chunks by cosine similarity, generate.

The baseline every other strategy is measured against (Lewis et al., 2020, in its simplest
retrieve-then-read form). Cost: one embedding, one FAISS search, one generation.
"""

from lab.contracts import Answer, LabContext
from lab.prompts import ANSWER_STOP, answer_prompt
from lab.tracing import Trace


class TraditionalRAG:
    name = "traditional"
    description = __doc__
    stages = ("embed", "retrieve", "generate")

    def answer(self, question: str, ctx: LabContext) -> Answer:
        trace = Trace()
        with trace.stage("embed"):
            query_vector = ctx.embedder.embed(question)
        with trace.stage("retrieve"):
            passages = ctx.kb.dense_search(query_vector, ctx.settings.top_k)
        with trace.stage("generate"):
            text = trace.record(ctx.generator.generate(answer_prompt(question, passages), stop=ANSWER_STOP))
        return Answer(self.name, text, tuple(passages), trace)
