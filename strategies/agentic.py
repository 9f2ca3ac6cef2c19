"""Agentic RAG: a reason-act-observe loop that plans, retrieves with a chosen tool, reflects, and verifies.

A fixed retrieve-then-read pipe retrieves once, with the question; multi-hop questions need a second
look with what the first found. The loop (`lab.agent`, ReAct: Yao et al., 2023) splits the question into
sub-questions by the entities it names, picks a tool for each (graph lookup, dense or keyword search),
judges after each retrieval whether the evidence suffices, follows the bridge entity the passages name
when it does not, and checks its answer against the passages before giving it ("not found in the corpus"
when nothing supports one). Every decision is the likeliest of a few scored continuations, with a
deterministic rule where the small base generator cannot tell them apart; every step is in the trace.

Cost: one scored forward pass per decision (about 4 to 8 per question), 2 to 5 tool calls, one generation
for the answer and one more if verification fails, all within the step, token and time budget. Left out:
generated plans and thoughts (they need an instruction-tuned model).
"""

from lab.agent import Agent, AgentParams
from lab.context import LabContext
from lab.core import Answer, Retrieval


class AgenticRAG:
    name = "agentic"
    description = __doc__
    stages = ("plan", "act", "reflect", "stop", "generate", "verify")

    class Params(AgentParams):
        pass

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        run = Agent(ctx, self.params).retrieve(question)
        return Retrieval(run.passages, run.trace)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        agent = Agent(ctx, self.params)
        run = agent.retrieve(question)
        text = agent.answer(run)
        return Answer(self.name, text, run.passages, run.trace)
