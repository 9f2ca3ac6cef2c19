"""Self-RAG, in spirit: draft from memory, retrieve only when the draft is judged unsupported, critique, answer.

Retrieving for every question costs time and can distract a reader that already knows the answer.
Self-RAG (Asai et al., 2023) trains a model to emit reflection tokens: whether to retrieve, whether each
passage is relevant (IsREL), whether the answer is supported (IsSUP). With a base model the tokens are
scored, not trained: the generator drafts a closed-book answer, then judges " yes"/" no" whether that
draft needs a source; where it cannot decide (a tie, or a lead under `decision_margin`), the draft's own
mean token log-likelihood does (a low one is a guess, as FLARE reads it: Jiang et al., 2023). The margin
is 0 by default: a greedy draft's mean log-likelihood is high almost by construction, so as the fallback
it would seldom retrieve, while the 270M judge leans, weakly, towards "needs a source" on factual questions. If retrieval is needed, each passage is critiqued for
relevance (`lab.reranking`) and the answer is read from the relevant ones. As in the paper, once retrieval is
chosen the draft no longer competes. Asked "is this answer supported?", the 270M model preferred the
draft on 15 of the 33 docs-demo questions in one run; not one of those drafts was right, and 6 of the
answers from the passages they displaced were. The support judgement (IsSUP) of the answer stays in the trace. Every stage
is always in the trace and says what it did or why it skipped.

Cost: one short generation and one or two scored passes to decide; when retrieving, one search, one scored
pass per critiqued passage, one generation and one support pass. Left out: the trained critic and
generator, segment-by-segment generation and the beam over critique scores.
"""

from pydantic import BaseModel, ConfigDict, Field

from lab.agent import support_prompt
from lab.context import LabContext
from lab.core import Answer, Passage, Retrieval, Trace
from lab.llm import ANSWER_STOP, closed_book_prompt
from lab.steps import read_passages, relevance, tidy_answer

YES_NO = (" yes", " no")
_RETRIEVE_EXAMPLES = (
    "Question: What is two plus two?\n"
    "Draft answer: four\n"
    "Needs a source: no\n\n"
    "Question: In which year did the mayor of a small Welsh town open its library?\n"
    "Draft answer: 1923\n"
    "Needs a source: yes\n\n"
)


def retrieve_prompt(question: str, draft: str) -> str:
    return _RETRIEVE_EXAMPLES + f"Question: {question.strip()}\nDraft answer: {draft}\nNeeds a source:"


class SelfRAG:
    name = "self-rag"
    description = __doc__
    stages = ("draft", "decide", "retrieve", "critique", "generate")

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        decision_margin: float = Field(
            0.0, ge=0.0, le=10.0, description="Nats by which yes or no must lead; closer, the draft's confidence decides."
        )
        min_confidence: float = Field(
            -1.5, ge=-20.0, le=0.0, description="Mean token log-likelihood below which a draft is a guess to check."
        )
        critiqued: int = Field(5, ge=1, le=50, description="Retrieved passages critiqued for relevance, best first.")
        threshold: float = Field(0.0, ge=-10.0, le=10.0, description="Log-odds of relevance a passage must exceed.")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        return self._retrieve(question, ctx)[0]

    def answer(self, question: str, ctx: LabContext) -> Answer:
        retrieval, draft = self._retrieve(question, ctx)
        trace = retrieval.trace
        with trace.stage("generate"):
            if not retrieval.passages:
                trace.note("chosen", "the draft: retrieval was judged unnecessary")
                return Answer(self.name, draft, (), trace)
            text = read_passages(question, retrieval.passages, ctx, trace)
            if text:
                prompt = support_prompt(retrieval.passages[:3], question, text)
                trace.note("support_log_odds", round(_log_odds(trace.record_scores(ctx.generator.score(prompt, YES_NO))), 2))
            trace.note("chosen", "the answer from the passages")
        return Answer(self.name, text, retrieval.passages, trace)

    def _retrieve(self, question: str, ctx: LabContext) -> tuple[Retrieval, str]:
        """The passages (none when the draft needs no source), and the closed-book draft."""
        trace = Trace()
        with trace.stage("draft"):
            prompt = closed_book_prompt(question, ctx.settings.closed_book_template)
            draft = tidy_answer(trace.record(ctx.generator.generate(prompt, stop=ANSWER_STOP)), question)
            trace.note("draft", draft)
        with trace.stage("decide"):
            needs = self._needs_retrieval(question, draft, ctx, trace)
        passages: list[Passage] = []
        with trace.stage("retrieve"):
            if needs:
                passages = ctx.kb.dense_search(ctx.embedder.embed(question), ctx.settings.top_k)
                trace.note("retrieved", [p.doc_title for p in passages])
            else:
                trace.note("skipped", "the draft was judged supported without a source")
        with trace.stage("critique"):
            if passages:
                critiqued = [(p, relevance(question, p, ctx.generator, trace)) for p in passages[: self.params.critiqued]]
                relevant = [p for p, grade in sorted(critiqued, key=lambda item: -item[1]) if grade > self.params.threshold]
                trace.note("relevance", {p.doc_title: round(grade, 2) for p, grade in critiqued})
                if not relevant:
                    relevant = [passages[0]]
                    trace.note("fallback", "no passage judged relevant; kept the retriever's first")
                passages = relevant + passages[self.params.critiqued :]
            else:
                trace.note("skipped", "nothing retrieved to critique")
        return Retrieval(tuple(passages), trace), draft

    def _needs_retrieval(self, question: str, draft: str, ctx: LabContext, trace: Trace) -> bool:
        if not draft:
            trace.note("decision", "retrieve: the draft is empty")
            return True
        lead = _log_odds(trace.record_scores(ctx.generator.score(retrieve_prompt(question, draft), YES_NO)))
        trace.note("needs_source_log_odds", round(lead, 2))
        if abs(lead) >= self.params.decision_margin:
            trace.note("decision", f"{'retrieve' if lead > 0 else 'no retrieval'}: judged by the generator")
            return lead > 0
        tokens = max(ctx.generator.count_tokens(" " + draft), 1)
        prompt = closed_book_prompt(question, ctx.settings.closed_book_template)
        confidence = trace.record_scores(ctx.generator.score(prompt, [" " + draft]))[0] / tokens
        trace.note("draft_confidence", round(confidence, 2))
        needs = confidence < self.params.min_confidence
        trace.note("decision", f"{'retrieve' if needs else 'no retrieval'}: the generator was undecided; "
                               f"the draft's mean token log-likelihood decided")
        return needs


def _log_odds(scores: list[float]) -> float:
    yes, no = scores
    return yes - no
