"""Multi-agent RAG: a manager splits the question, one-tool researchers propose answers, a consensus votes and debates.

One agent with every tool commits to what its first search found. Here a manager splits the question into
sub-tasks (one lookup per entity it names, then the question itself) and hands each to a researcher; each
researcher sees the corpus through one tool only (dense search, BM25 or the entity graph), keeps its own
scratch record, follows a bridge entity when it judges its evidence short, and proposes an answer from its
evidence. The consensus scores each distinct proposal by the generator's likelihood after all the evidence
and weighs every researcher's vote by it; when they disagree, one round of debate scores every proposal
again after each other researcher's evidence (Du et al., 2023, multiagent debate, here with likelihoods
instead of written arguments). The answer is the winner, with the evidence of the researchers who
proposed it. Every decision is a scored continuation, as in `agentic` (`lab.agent.team`); the trace gives
each agent its own lane, with the messages between them.

Cost: about 1.4x agentic's LLM calls and 2.3-3x its time, measured on the bundled demos (9-12 generate
and score calls a question against agentic's 7-8): the manager's plan and assignment decisions; per
researcher a reflection, a bridge choice and a read of its evidence (a generation, or one scoring call
over some 40 candidates); one vote over the pooled evidence and, when proposals differ, one scoring call
per researcher; 3 to 7 tool calls. The reads and the long vote and debate prompts are what cost the time.
The researchers run one after another. Left out: written plans, arguments and critiques (they need an
instruction-tuned model), and more than one round of debate.
"""

from pydantic import BaseModel, ConfigDict, Field

from lab.agent import (
    CONSENSUS,
    MANAGER,
    NOT_FOUND,
    AgentParams,
    Researcher,
    assign,
    distinct_proposals,
    form_team,
    likelihood_shares,
    plan,
    propose,
    research,
    tally,
)
from lab.context import LabContext
from lab.core import BUDGET, Answer, Passage, Trace
from lab.steps import reciprocal_rank_fusion


class MultiAgentRAG:
    name = "multi-agent"
    description = __doc__
    stages = ("plan", "brief", "act", "reflect", "propose", "vote", "debate", "decide")

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        hops: int = Field(
            1, ge=0, le=3, description="Bridge entities a researcher may follow while it judges its evidence short."
        )
        passages_per_step: int = Field(5, ge=1, le=50, description="Passages each tool call returns.")
        pooled_passages: int = Field(
            8, ge=1, le=20, description="Passages of all researchers, fused by rank, that the vote is scored on."
        )
        answer_tokens: int = Field(32, json_schema_extra=BUDGET, ge=4, le=256, description="Longest proposal a researcher writes.")
        decision_margin: float = Field(
            1.0, ge=0.0, le=10.0, description="Nats the likeliest choice must lead by; closer calls take the fallback rule."
        )
        debate: bool = Field(
            True, description="When proposals differ, score each against the other researchers' evidence."
        )

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()

    def answer(self, question: str, ctx: LabContext) -> Answer:
        trace = Trace()
        decisions = AgentParams(decision_margin=self.params.decision_margin,
                                passages_per_step=self.params.passages_per_step)
        with trace.lane(MANAGER, "plan"):
            team = form_team(question, ctx, trace)
            sub_tasks = plan(team.manager, question, team.manager.named, ctx.generator, decisions, team.graph)
        with trace.lane(MANAGER, "brief"), trace.stage("brief"):
            trace.note("sub_tasks", [task.text for task in sub_tasks])
            trace.note("assigned", assign(team, sub_tasks, ctx, decisions))
        for researcher in team.researchers:
            trace.message(MANAGER, researcher.name, " → ".join(task.text for task in researcher.tasks))

        for researcher in team.researchers:
            research(researcher, question, ctx, decisions, team.graph, self.params.hops)
            proposal = propose(researcher, ctx, self.params.answer_tokens)
            found = len(researcher.evidence)
            trace.message(researcher.name, CONSENSUS,
                          f"proposes {proposal!r} from {found} passages" if proposal else "found nothing; abstains")

        return self._consensus(question, [r for r in team.researchers if r.proposal], ctx, trace)

    def _consensus(self, question: str, proposing: list[Researcher], ctx: LabContext, trace: Trace) -> Answer:
        """Vote weighted by likelihood after the pooled evidence; on disagreement one round of debate; the winner."""
        if not proposing:
            with trace.lane(CONSENSUS, "decide"), trace.stage("decide"):
                trace.note("winner", NOT_FOUND)
            trace.message(CONSENSUS, MANAGER, "no researcher found evidence")
            return Answer(self.name, NOT_FOUND, (), trace)
        proposals = distinct_proposals(proposing)
        texts = list(proposals)
        with trace.lane(CONSENSUS, "vote"), trace.stage("vote"):
            pooled = reciprocal_rank_fusion([r.evidence for r in proposing], limit=self.params.pooled_passages)
            vote_shares = likelihood_shares(question, pooled, texts, ctx, trace)
            trace.note("proposals", {text: [r.name for r in members] for text, members in proposals.items()})
            trace.note("shares", dict(zip(texts, (round(share, 3) for share in vote_shares))))
            trace.note("evidence", [p.doc_title for p in pooled])
            trace.note("unanimous", len(texts) == 1)

        debate_shares: dict[str, list[float]] = {}
        if len(texts) > 1 and self.params.debate:
            for judge in proposing:
                trace.message(CONSENSUS, judge.name, "weigh against your evidence: " + " | ".join(texts))
                with trace.lane(judge.name, "debate"), trace.stage("debate"):
                    shares = likelihood_shares(question, judge.evidence, texts, ctx, trace)
                    trace.note("shares", dict(zip(texts, (round(share, 3) for share in shares))))
                debate_shares[judge.name] = shares
                weighed = " · ".join(f"{text} {share:.2f}" for text, share in zip(texts, shares))
                trace.message(judge.name, CONSENSUS, weighed)

        with trace.lane(CONSENSUS, "decide"), trace.stage("decide"):
            votes = tally(proposals, vote_shares, debate_shares)
            winner = max(votes, key=votes.__getitem__)
            winners = proposals[winner]
            evidence = self._winning_evidence(winners, ctx.settings.top_k)
            trace.note("votes", {text: round(count, 3) for text, count in votes.items()})
            trace.note("debated", bool(debate_shares))
            trace.note("winner", winner)
            trace.note("won_with", [r.name for r in winners])
            trace.note("evidence", [p.doc_title for p in evidence])
            if candidates := self._candidates_of(winners[0], trace):
                trace.note("candidates", candidates)
        trace.message(CONSENSUS, MANAGER, f"answer {winner!r} on the evidence of {', '.join(r.name for r in winners)}")
        return Answer(self.name, winner, evidence, trace)

    @staticmethod
    def _winning_evidence(winners: list[Researcher], top_k: int) -> tuple[Passage, ...]:
        """The winner's passages; where several researchers proposed it, theirs fused by rank."""
        if len(winners) == 1:
            return winners[0].evidence
        return tuple(reciprocal_rank_fusion([r.evidence for r in winners], limit=top_k))

    @staticmethod
    def _candidates_of(researcher: Researcher, trace: Trace) -> list[dict]:
        """The ranked candidates the winning proposal was selected from, so the page shows the winner's."""
        for stage in trace.stages:
            if stage.name == "propose" and stage.detail.get("agent") == researcher.name:
                return list(stage.detail.get("candidates", []))
        return []
