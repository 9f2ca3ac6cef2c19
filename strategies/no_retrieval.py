"""No retrieval: the generator answers from what its weights remember, with no passages at all.

The control every comparison needs: a strategy that does no better than this has retrieved nothing
useful (closed-book QA, as in Petroni et al., 2019 and Lewis et al., 2020). Cost: one generation.
"""

from pydantic import BaseModel, ConfigDict

from lab.context import LabContext
from lab.core import Answer, Trace
from lab.steps import closed_book_answer


class NoRetrieval:
    name = "no-retrieval"
    description = __doc__
    stages = ("generate",)

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()

    def answer(self, question: str, ctx: LabContext) -> Answer:
        trace = Trace()
        with trace.stage("generate"):
            text = closed_book_answer(question, ctx, trace)
        return Answer(self.name, text, (), trace)
