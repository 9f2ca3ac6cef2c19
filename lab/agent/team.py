"""A team of agents on one question: the manager's sub-tasks, researchers bound to one tool each, and the
consensus that weighs what they propose.

One agent with every tool (`lab.agent.loop`) commits early: its first search shapes every later step. A
team spreads the same question over researchers that each see the corpus through one tool only (dense
search, BM25, the entity graph), so their evidence, and the answers it supports, fail independently; the
consensus then asks the generator which proposal the evidence backs (Du et al., 2023, "Improving
Factuality and Reasoning in Language Models through Multiagent Debate", with likelihoods in place of
written arguments, which a 270M base model cannot write).

- The manager reuses the agent's plan (one sub-question per entity the question names, decided by
  likelihood) and gives each sub-question to the researcher whose tool the generator finds likeliest for
  it (`choose_tool`); the question itself goes to every researcher.
- A researcher works through its sub-tasks, then the question, with its one tool; while it judges its
  evidence short (`reflect`) it follows up to `hops` bridge entities its passages name (`choose_bridge`).
  Its steps are its own scratch record (`AgentRun`); its proposal is the shared read step over its
  evidence (`read_passages`), so it answers in the lab's `answer_mode`.
- The consensus scores every distinct proposal as the answer after the researchers' pooled evidence
  (fused by rank): each researcher's vote carries its proposal's share of that likelihood. When they
  disagree, one round of debate scores every proposal after each researcher's evidence; what a
  researcher's evidence gives the proposals of the others is added to their votes.

Researchers run one after another on the one generator; the trace's lanes show it.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.agent.planning import choose_bridge, choose_tool
from lab.agent.records import AgentParams, AgentRun, Step, SubQuestion, ToolResult
from lab.agent.tools import GraphLookup, Tool, default_tools
from lab.agent.verification import reflect
from lab.context import LabContext
from lab.core.contracts import Passage
from lab.core.tracing import Trace
from lab.graph.entities import entity_key
from lab.graph.entity_graph import EntityGraph
from lab.graph.linking import named_entities
from lab.llm.prompts import ANSWER_STOP, answer_prompt
from lab.steps.reading import read_passages

MANAGER = "manager"
CONSENSUS = "consensus"
RESEARCHER_OF_TOOL = {"search": "dense researcher", "keyword": "BM25 researcher", "graph": "graph researcher"}
"""Each researcher's lane, by its tool, in the order the team lists them."""


@dataclass
class Researcher:
    """An executor: one tool, the sub-tasks the manager gave it, its scratch run and what it proposes."""

    tool: Tool
    run: AgentRun
    tasks: list[SubQuestion] = field(default_factory=list)
    proposal: str = ""

    @property
    def name(self) -> str:
        return RESEARCHER_OF_TOOL.get(self.tool.name, f"{self.tool.name} researcher")

    @property
    def evidence(self) -> tuple[Passage, ...]:
        """Its best passages: round robin over its tool calls, so each hop's best passage is among them."""
        return self.run.passages


@dataclass
class Team:
    """The agents on one question, all writing one trace: the manager's scratch run and the researchers."""

    manager: AgentRun
    researchers: list[Researcher]
    graph: EntityGraph | None


def form_team(question: str, ctx: LabContext, trace: Trace) -> Team:
    """A researcher per tool the knowledge base offers (the graph one only where it has an entity graph)."""
    order = list(RESEARCHER_OF_TOOL)
    tools = sorted(default_tools(ctx), key=lambda tool: order.index(tool.name) if tool.name in order else len(order))
    graph = next((tool.graph for tool in tools if isinstance(tool, GraphLookup)), None)
    named = named_entities(question, graph) if graph else []
    top_k = ctx.settings.top_k
    researchers = [Researcher(tool, AgentRun(question, trace, named=list(named), top_k=top_k)) for tool in tools]
    return Team(AgentRun(question, trace, named=named, top_k=top_k), researchers, graph)


def assign(team: Team, sub_tasks: Sequence[SubQuestion], ctx: LabContext, params: AgentParams) -> dict[str, str]:
    """Each lookup to the researcher whose tool the generator finds likeliest for it, the question itself (the
    last sub-task) to every researcher; called inside a stage. Returns who got each lookup, and how decided."""
    by_tool = {researcher.tool.name: researcher for researcher in team.researchers}
    decided: dict[str, str] = {}
    for lookup in sub_tasks[:-1]:
        choice = choose_tool(lookup, list(by_tool), ctx.generator, params, team.graph, team.manager.trace)
        researcher = by_tool[choice.choice]
        researcher.tasks.append(lookup)
        decided[lookup.text] = f"{researcher.name} ({choice.by})"
    for researcher in team.researchers:
        researcher.tasks.append(sub_tasks[-1])
    return decided


def research(
    researcher: Researcher, question: str, ctx: LabContext, params: AgentParams, graph: EntityGraph | None, hops: int
) -> None:
    """Its sub-tasks with its tool, then bridge entities while it judges its evidence short, each step in its lane."""
    run, trace = researcher.run, researcher.run.trace
    for task in researcher.tasks:
        act(researcher, task.query, task.thought, params.passages_per_step)
    for _ in range(hops):
        with trace.lane(researcher.name, "reflect"):
            enough = reflect(run, question, ctx.generator, params, graph)
            bridge = None if enough else choose_bridge(run, question, ctx.generator, params, graph)
        if bridge is None:
            return
        act(researcher, bridge, f"My passages name {bridge}, which the question does not; follow it.",
            params.passages_per_step)


def act(researcher: Researcher, query: str, thought: str, k: int) -> ToolResult:
    """One call of the researcher's tool; a tool that raises leaves an observation, not a crash."""
    run, trace = researcher.run, researcher.run.trace
    with trace.lane(researcher.name, "act"), trace.stage("act") as stage:
        try:
            result = researcher.tool.run(query, k)
        except Exception as error:  # a failing tool is what this researcher observed; the team goes on
            result = ToolResult((), f"search failed: {type(error).__name__}: {error}")
        run.rankings.append(result.passages)
        run.keep(stage, Step(len(run.steps) + 1, "act", thought, researcher.tool.name, query, result.observation,
                             result.passages, "manager"))
    return result


def propose(researcher: Researcher, ctx: LabContext, answer_tokens: int) -> str:
    """The researcher's answer from its own evidence, read as every strategy reads; empty when it found none."""
    run, trace = researcher.run, researcher.run.trace
    with trace.lane(researcher.name, "propose"), trace.stage("propose") as stage:
        evidence = researcher.evidence
        text = read_passages(run.question, evidence, ctx, trace, max_new_tokens=answer_tokens) if evidence else ""
        observation = text if evidence else "found nothing; abstains"
        run.keep(stage, Step(len(run.steps) + 1, "propose", "Answer from my evidence.", observation=observation,
                             passages=evidence))
    researcher.proposal = text
    return text


def distinct_proposals(researchers: Sequence[Researcher]) -> dict[str, list[Researcher]]:
    """Proposals that say the same (case, punctuation and a leading "the" aside), each with who made it."""
    grouped: dict[str, list[Researcher]] = {}
    texts: dict[str, str] = {}
    for researcher in researchers:
        key = entity_key(researcher.proposal) or researcher.proposal.strip().lower()
        texts.setdefault(key, researcher.proposal)
        grouped.setdefault(key, []).append(researcher)
    return {texts[key]: members for key, members in grouped.items()}


def likelihood_shares(
    question: str, evidence: Sequence[Passage], proposals: Sequence[str], ctx: LabContext, trace: Trace
) -> list[float]:
    """Each proposal's share of the likelihood that it is the answer after `evidence` (a softmax over them).

    A proposal is scored as the read step scores a candidate: " text" and the end of the line after the
    answer prompt, in one call. The log-likelihood is summed over tokens, so, as in selection, a short span
    is favoured over a sentence that restates it. A backend without log-probabilities makes a constrained
    choice instead, and its choice takes the whole share.
    """
    if len(proposals) == 1:
        return [1.0]
    prompt = answer_prompt(question, evidence, ctx.settings.answer_template)
    scores = trace.record_scores(ctx.generator.score(prompt, [f" {text}{ANSWER_STOP[0]}" for text in proposals]))
    best = max(scores)
    weights = [math.exp(score - best) for score in scores]
    return [weight / sum(weights) for weight in weights]


def tally(
    proposals: dict[str, list[Researcher]], vote_shares: Sequence[float], debate_shares: dict[str, Sequence[float]]
) -> dict[str, float]:
    """Votes per proposal: each proposer's vote weighs its proposal's share given all evidence; in debate, each
    researcher's evidence adds to every proposal it did not make that proposal's share given that evidence."""
    totals = {}
    for index, (text, proposers) in enumerate(proposals.items()):
        own = {researcher.name for researcher in proposers}
        conceded = sum(shares[index] for judge, shares in debate_shares.items() if judge not in own)
        totals[text] = len(proposers) * vote_shares[index] + conceded
    return totals
