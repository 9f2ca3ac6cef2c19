"""The read step of retrieve-then-read: one generation over the passages a strategy retrieved.

Strategies that differ only in how they find passages share it, so their answers differ only
through retrieval, which is what a side-by-side comparison should isolate.
"""

from lab.context import LabContext
from lab.core.contracts import Answer, Retrieval
from lab.llm.prompts import ANSWER_STOP, answer_prompt


def generate_answer(strategy: str, question: str, retrieval: Retrieval, ctx: LabContext) -> Answer:
    """Answer from the retrieved passages in a stage named "generate", on the retrieval's trace."""
    trace = retrieval.trace
    with trace.stage("generate"):
        prompt = answer_prompt(question, retrieval.passages, ctx.settings.answer_template)
        text = trace.record(ctx.generator.generate(prompt, stop=ANSWER_STOP))
    return Answer(strategy, text, retrieval.passages, trace)
