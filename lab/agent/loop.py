"""The agent loop behind Agentic RAG: ReAct steps over search tools, decided by likelihood, within a budget.

ReAct (Yao et al., 2023) interleaves a thought, an action with its input, and the observation the action
returns. Here the actions are three retrieval tools (dense search, keyword search, a lookup in the entity
graph) and finish, and the loop uses four patterns, each a step of its own kind in the trace:

- planning: the question is split into sub-questions answered in order, one per entity it names, then the
  question itself, filled in with the bridge entity the earlier steps found (Self-Ask, Press et al., 2023);
- following the evidence: once the planned steps are done, one search with the found sentence closest to
  the question, leaving out the page it came from, for a bridge stated as a term rather than a name; then
  one step along the links the best passages make (Markdown, MyST, wiki) to pages not found yet, for a
  bridge stated only as a cross-reference ("see {doc}`entry-points`");
- reflection: after each retrieval the loop judges whether the evidence suffices: a retrieval that found
  nothing does not, and the tool is switched; once the planned sub-questions are done the generator
  judges, and if it is not enough the next step follows a bridge entity, or switches tool when none is left;
- self-verification: the drafted answer is checked against the best passages; if unsupported the loop
  retrieves once more, then answers "not found in the corpus".

The embedded generator is a 270M base model: it writes neither plans nor JSON reliably. So every decision
is a choice among fixed continuations scored by likelihood (`Generator.score`: " yes"/" no", a tool
name, a candidate entity), and where the top two are closer than `decision_margin` nats the loop takes a
deterministic rule instead (the bridge candidate the graph ranks first, the tool that fits the input).
Thoughts are written by the loop from what it observed, so the trace reads as a ReAct trajectory. A
stronger generator makes the same choices with more confidence, and the fallbacks fire less.

A budget (tool steps, generated tokens, wall time) always ends the loop with passages and the reason it
stopped; the final answer's tokens are held in reserve. A tool that raises becomes an observation; the
same tool with the same input twice in a row ends the loop. Every passage a tool returned is kept; the
final order is round robin over the tool steps, so each hop's best passage reaches the top.

Cost per question: a scored forward pass per decision (plan, each reflection, each tool choice, the
bridge choice, verification; no decoding; tool choices once more for the calibration prior, cached), one
embedding pass over the best passages' sentences for the evidence search, a lookup of their links in
SQLite, one generation for the answer, and a second when the first is unsupported. Left out: generated
thoughts and sub-questions (trustworthy only with an instruction model), and parallel tool calls.

This module is the loop itself (`Agent`: retrieve, answer, act, the budget, the record of steps), reading
top to bottom. What it calls lives beside it: `records` (parameters, steps, the run), `tools` (the
retrieval actions), `prompts` (the few-shot prompts), `deciding` (the likelihood-or-rule decision),
`planning` (sub-questions, tool and bridge choice) and `verification` (reflection, the draft, the check).
"""

import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import replace

from lab.agent.planning import choose_tool, evidence_sub_question, fallback_tool, next_sub_question, plan
from lab.agent.records import (
    EVIDENCE_PASSAGES,
    FINISH,
    NOT_FOUND,
    AgentParams,
    AgentRun,
    Decision,
    Step,
    ToolResult,
)
from lab.agent.tools import GraphLookup, Tool, default_tools, linked_passages
from lab.agent.verification import draft, reflect, supported
from lab.context import LabContext
from lab.core.tracing import Trace
from lab.graph.entity_graph import EntityGraph
from lab.graph.linking import named_entities

log = logging.getLogger(__name__)


class Agent:
    """The loop for one question: `retrieve` runs plan, act and reflect; `answer` then drafts and verifies."""

    def __init__(self, ctx: LabContext, params: AgentParams, tools: Sequence[Tool] | None = None):
        self.ctx = ctx
        self.params = params
        self.tools = {tool.name: tool for tool in (tools if tools is not None else default_tools(ctx, params.hybrid_search))}
        graph_tool = self.tools.get("graph")
        self.graph: EntityGraph | None = graph_tool.graph if isinstance(graph_tool, GraphLookup) else None
        self._started = 0.0

    def retrieve(self, question: str) -> AgentRun:
        self._started = time.perf_counter()
        generator, params, graph = self.ctx.generator, self.params, self.graph
        named = named_entities(question, graph) if graph else []
        run = AgentRun(question, Trace(), named=named, top_k=self.ctx.settings.top_k)
        pending = deque(plan(run, question, named, generator, params, graph))
        done: set[tuple[str, str]] = set()
        last: tuple[str, str] | None = None
        followed_evidence = followed_links = False
        while True:
            run.stop_reason = self._over_budget(run)
            if run.stop_reason:
                break
            if pending:
                sub = pending.popleft()
            else:
                sub = next_sub_question(run, question, done, self.tools, generator, params, graph)
            if sub is None:
                run.stop_reason = "nothing left to follow or switch to; answering with what was found"
                break
            choice = (Decision(sub.tool, "rule: switch tool") if sub.tool
                      else choose_tool(sub, self.tools, generator, params, graph, run.trace))
            tool = choice.choice
            if (tool, sub.query) == last:
                run.stop_reason = f"repeated action {tool}({sub.query!r}) twice in a row; cut off"
                self._record(run, Step(len(run.steps) + 1, "act", sub.thought, tool, sub.query, run.stop_reason))
                break
            last = (tool, sub.query)
            done.add(last)
            result = self._act(run, tool, sub.query, sub.thought, choice.by, leaving=sub.leaving)
            if not params.reflect:
                continue
            if not result.passages:
                switch = fallback_tool(sub.query, self.tools, graph, tried=tool)
                self._record(run, Step(len(run.steps) + 1, "reflect", f"{tool} found nothing; switch to {switch}.",
                                       switch, sub.query, "nothing retrieved", decided_by="rule"))
                pending.appendleft(replace(sub, thought=f"{tool} found nothing; try {switch}.", tool=switch))
                continue
            if pending:
                continue
            if params.follow_evidence and not followed_evidence:
                followed_evidence = True
                if evidence := evidence_sub_question(run, question, self.tools, self.ctx.embedder):
                    pending.append(evidence)
                    continue
            if params.follow_links and not followed_links and not self._over_budget(run):
                followed_links = True
                self._follow_links(run, question)
            if reflect(run, question, generator, params, graph):
                run.stop_reason = "evidence judged sufficient"
                break
        self._record(run, Step(len(run.steps) + 1, "stop", "Stop retrieving.", FINISH, observation=run.stop_reason))
        return run

    def answer(self, run: AgentRun) -> str:
        """Draft from the best passages; with `verify`, check support, retrieve once more if unsupported."""
        generator, params = self.ctx.generator, self.params
        if not run.passages:
            self._record(run, Step(len(run.steps) + 1, "verify", "Nothing was retrieved to support an answer.",
                                   FINISH, observation=NOT_FOUND, decided_by="rule"))
            return NOT_FOUND
        text = draft(run, self.ctx, params)
        if not params.verify:
            return text
        if supported(run, text, generator, params):
            return text
        if self._over_budget(run) or params.max_generated_tokens - run.generated_tokens < params.answer_tokens:
            return NOT_FOUND
        query = f"{run.question} {text}"
        tool = fallback_tool(query, self.tools, self.graph, tried="graph")
        self._act(run, tool, query, "The answer is unsupported; retrieve once more.")
        text = draft(run, self.ctx, params)
        return text if supported(run, text, generator, params) else NOT_FOUND

    def _act(
        self, run: AgentRun, tool: str, query: str, thought: str, decided_by: str = "rule", leaving: str = ""
    ) -> ToolResult:
        with run.trace.stage("act") as stage:
            try:
                result = self.tools[tool].run(query, self.params.passages_per_step)
            except Exception as error:  # a failing tool is something the agent observes, not a crash
                log.warning("Tool %s failed on %r: %s", tool, query, error)
                result = ToolResult((), f"search failed: {type(error).__name__}: {error}")
            if leaving:
                kept = tuple(p for p in result.passages if p.doc_title != leaving)
                result = ToolResult(kept, f"{result.observation} (leaving out {leaving})")
            run.rankings.append(result.passages)
            step = Step(len(run.steps) + 1, "act", thought, tool, query, result.observation, result.passages,
                        decided_by)
            run.keep(stage, step)
        return result

    def _follow_links(self, run: AgentRun, question: str) -> None:
        """One step along the links of the best passages to pages not found yet."""
        with run.trace.stage("act") as stage:
            sources = run.passages[:EVIDENCE_PASSAGES]
            found = {p.doc_title for ranking in run.rankings for p in ranking}
            result = linked_passages(self.ctx.kb, self.ctx.embedder, question, sources, found)
            run.rankings.append(result.passages)
            thought = f"Follow the links of {', '.join(dict.fromkeys(p.doc_title for p in sources))}."
            step = Step(len(run.steps) + 1, "act", thought, "links", question, result.observation, result.passages,
                        "rule")
            run.keep(stage, step)

    def _over_budget(self, run: AgentRun) -> str:
        tool_steps = sum(step.kind == "act" for step in run.steps)
        if tool_steps >= self.params.max_steps:
            return f"budget: {self.params.max_steps} tool steps used"
        if self.params.max_generated_tokens - run.generated_tokens < self.params.answer_tokens:
            return f"budget: {self.params.max_generated_tokens} generated tokens, less than an answer left"
        if time.perf_counter() - self._started >= self.params.max_seconds:
            return f"budget: {self.params.max_seconds:g} s of wall time"
        return ""

    @staticmethod
    def _record(run: AgentRun, step: Step) -> None:
        with run.trace.stage(step.kind) as stage:
            run.keep(stage, step)
