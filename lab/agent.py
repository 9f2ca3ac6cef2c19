"""The agent loop behind Agentic RAG: ReAct steps over search tools, decided by likelihood, within a budget.

ReAct (Yao et al., 2023) interleaves a thought, an action with its input, and the observation the action
returns. Here the actions are three retrieval tools (dense search, keyword search, a lookup in the entity
graph) and finish, and the loop uses three patterns, each a step of its own kind in the trace:

- planning: the question is split into sub-questions answered in order, one per entity it names, then the
  question itself, filled in with the bridge entity the earlier steps found (Self-Ask, Press et al., 2023);
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
generation for the answer, and a second when the first is unsupported. Left out: generated thoughts and sub-questions (trustworthy only with an instruction
model), and parallel tool calls.
"""

import logging
import re
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from lab.contracts import LabContext, Passage
from lab.embedding import Embedder
from lab.entities import entity_key
from lab.entity_graph import EntityGraph, open_graph
from lab.generation import Generator
from lab.knowledge_base import KnowledgeBase
from lab.prompts import ANSWER_STOP, answer_prompt
from lab.tracing import Trace

log = logging.getLogger(__name__)

NOT_FOUND = "not found in the corpus"
FINISH = "finish"
YES_NO = (" yes", " no")
PASSAGE_CHARS = 240
EVIDENCE_PASSAGES = 3
MAX_NAME_WORDS = 6
_WORD = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"['’]s\b")

_SUFFICIENCY_EXAMPLES = (
    "Passage (Marie Curie): Marie Curie was a Polish-born physicist who lived in France.\n"
    "Question: Which country was Marie Curie born in?\n"
    "Enough to answer: yes\n\n"
    "Passage (Jaws (film)): Jaws is a 1975 thriller film directed by Steven Spielberg.\n"
    "Question: Which city was the director of Jaws born in?\n"
    "Enough to answer: no\n\n"
)
_SUPPORT_EXAMPLES = (
    "Passage (Marie Curie): Marie Curie was a Polish-born physicist who lived in France.\n"
    "Question: Which country was Marie Curie born in?\n"
    "Answer: Poland\n"
    "Supported: yes\n\n"
    "Passage (Marie Curie): Marie Curie was a Polish-born physicist who lived in France.\n"
    "Question: Which city was Marie Curie born in?\n"
    "Answer: Paris\n"
    "Supported: no\n\n"
)
_MULTI_HOP_EXAMPLES = (
    "Question: Which country was Marie Curie born in?\n"
    "Are follow up questions needed here: no\n\n"
    "Question: Which city was the director of Jaws born in?\n"
    "Are follow up questions needed here: yes\n\n"
)
_ACTION_EXAMPLES = (
    "Tools: graph looks up a named entity and its links; search finds passages like a query; "
    "keyword finds passages sharing its words; finish answers.\n\n"
    "Question: Who directed the film Jaws?\n"
    "Thought: The question names Jaws; look it up.\n"
    "Action: graph\n\n"
    "Question: Which novel tells of a hunt for a white whale?\n"
    "Thought: The question names nothing to look up; search for it.\n"
    "Action: search\n\n"
)
_BRIDGE_EXAMPLE = (
    "Passage (Jaws (film)): Jaws is a 1975 thriller film directed by Steven Spielberg.\n"
    "Question: Which city was the director of Jaws born in?\n"
    "Next to look up: Steven Spielberg\n\n"
)


class AgentParams(BaseModel):
    """The loop's budget and decision thresholds, shared by every strategy that runs it."""

    model_config = ConfigDict(extra="forbid")

    max_steps: int = Field(5, ge=1, le=20, description="Most tool calls (search, keyword, graph lookups).")
    max_generated_tokens: int = Field(128, ge=8, le=4096, description="Most tokens generated over the whole loop.")
    max_seconds: float = Field(120.0, gt=0, le=3600, description="Wall time after which no new step starts.")
    answer_tokens: int = Field(32, ge=4, le=256, description="Longest answer, held in reserve from the token budget.")
    passages_per_step: int = Field(5, ge=1, le=50, description="Passages each tool call returns.")
    decision_margin: float = Field(
        1.0, ge=0.0, le=10.0, description="Nats the likeliest choice must lead by; closer calls take the fallback rule."
    )
    plan: bool = Field(True, description="Split the question into sub-questions, one per entity it names.")
    reflect: bool = Field(True, description="Judge after each retrieval whether the evidence suffices.")
    verify: bool = Field(True, description="Check the answer against the passages before giving it.")


@dataclass(frozen=True)
class ToolResult:
    passages: tuple[Passage, ...]
    observation: str


class Tool(Protocol):
    """A retrieval action: a name the generator can choose, and a run from an input text to passages."""

    name: str

    def run(self, query: str, k: int) -> ToolResult: ...


@dataclass(frozen=True)
class Step:
    """One step of the loop, as the trace shows it."""

    number: int
    kind: str
    thought: str
    action: str = ""
    action_input: str = ""
    observation: str = ""
    passages: tuple[Passage, ...] = ()
    decided_by: str = ""
    ms: float = 0.0

    def to_detail(self) -> dict:
        return {
            "step": self.number,
            "kind": self.kind,
            "thought": self.thought,
            "action": self.action,
            "action_input": self.action_input,
            "observation": self.observation,
            "passages": [{"chunk_id": p.chunk_id, "doc_title": p.doc_title} for p in self.passages],
            "decided_by": self.decided_by,
        }


@dataclass
class AgentRun:
    """What the loop found: passages in final rank order, its steps, and why it stopped."""

    question: str
    trace: Trace
    named: list[str] = field(default_factory=list)
    bridges: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    rankings: list[tuple[Passage, ...]] = field(default_factory=list)
    stop_reason: str = ""
    top_k: int = 5

    @property
    def passages(self) -> tuple[Passage, ...]:
        """Round robin over the tool steps: every step's first passage, then every step's second, and so on.

        Each sub-question's best evidence so reaches the top-k; fusion that rewards agreement between steps
        (`lab.fusion`) would lift the generic passages every search returns over a hop's single page.
        """
        picked: dict[int, Passage] = {}
        for rank in range(max((len(r) for r in self.rankings), default=0)):
            for ranking in self.rankings:
                if rank < len(ranking) and ranking[rank].chunk_id not in picked:
                    picked[ranking[rank].chunk_id] = ranking[rank]
        return tuple(picked.values())[: self.top_k]

    @property
    def generated_tokens(self) -> int:
        return sum(call.new_tokens for call in self.trace.llm_calls)


@dataclass(frozen=True)
class SubQuestion:
    """A planned step: the sub-question, the tool input it becomes, the thought, and a tool if one is forced."""

    text: str
    query: str
    thought: str
    tool: str = ""


@dataclass(frozen=True)
class Decision:
    choice: str
    by: str


class DenseSearch:
    name = "search"

    def __init__(self, kb: KnowledgeBase, embedder: Embedder):
        self.kb, self.embedder = kb, embedder

    def run(self, query: str, k: int) -> ToolResult:
        passages = tuple(self.kb.dense_search(self.embedder.embed(query), k))
        return ToolResult(passages, _found(passages))


class KeywordSearch:
    name = "keyword"

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb

    def run(self, query: str, k: int) -> ToolResult:
        passages = tuple(self.kb.keyword_search(query, k))
        return ToolResult(passages, _found(passages))


class GraphLookup:
    """An entity's page, then the pages of its neighbours (strongest link and closest to the input first),
    then other chunks that mention it. A page its own page spells out counts as a neighbour even where NER
    missed the name ("WINNER"), as in Graph RAG. The observation is the neighbourhood in words."""

    name = "graph"

    def __init__(self, graph: EntityGraph, kb: KnowledgeBase, embedder: Embedder):
        self.graph, self.kb, self.embedder = graph, kb, embedder

    def run(self, query: str, k: int) -> ToolResult:
        keys = named_entities(query, self.graph)
        if not keys:
            return ToolResult((), f"no entity of the graph is named in {query!r}")
        vector = self.embedder.embed(query)
        scored: dict[int, float] = {}
        links = []
        for key in keys:
            node = self.graph.graph.nodes[key]
            for chunk_id in node["home_chunks"]:
                scored[chunk_id] = max(scored.get(chunk_id, 0.0), 3.0)
            strongest = max((d["weight"] for d in self.graph.graph[key].values()), default=1.0)
            strengths = {n: d["weight"] / strongest * self.graph.specificity(n) for n, d in self.graph.graph[key].items()}
            for page in pages_named_on(key, self.graph, self.kb):
                strengths[page] = max(strengths.get(page, 0.0), self.graph.specificity(page))
            neighbours: dict[int, float] = {}
            for neighbour, strength in strengths.items():
                for chunk_id in self.graph.graph.nodes[neighbour]["home_chunks"]:
                    neighbours[chunk_id] = max(neighbours.get(chunk_id, 0.0), 1.0 + strength)
            for chunk_id in node["chunks"] - node["home_chunks"]:
                neighbours.setdefault(chunk_id, 0.5)
            similarity = self.kb.similarities(vector, neighbours)
            for chunk_id, strength in neighbours.items():
                scored.setdefault(chunk_id, strength + similarity.get(chunk_id, 0.0))
            links.extend(item["link"] for item in self.graph.neighbourhood(key, limit=3))
        best = sorted(scored, key=lambda c: (-scored[c], c))[:k]
        passages = tuple(self.kb.passages([(c, scored[c]) for c in best]))
        named = ", ".join(self.graph.name(key) for key in keys)
        return ToolResult(passages, f"{named}: {'; '.join(links) or 'no links'}. {_found(passages)}")


def default_tools(ctx: LabContext) -> list[Tool]:
    """Dense search, keyword search and, when the knowledge base has an entity graph, the graph lookup."""
    tools: list[Tool] = [DenseSearch(ctx.kb, ctx.embedder), KeywordSearch(ctx.kb)]
    graph = open_graph(ctx.kb.store.path, ctx.settings.spacy_model)
    if not graph.is_empty:
        tools.insert(0, GraphLookup(graph, ctx.kb, ctx.embedder))
    return tools


def named_entities(text: str, graph: EntityGraph) -> list[str]:
    """Graph entities the text spells out as whole names, longest first, none inside another.

    A name must not run on into a capitalized word ("South" in "South Korean" names nothing); the text's
    first word may be a capitalized question word. A short text with no exact name may be a misspelt one.
    """
    text = _POSSESSIVE.sub("", text)
    matches = list(_WORD.finditer(text))
    words = [m.group() for m in matches]
    capital = [w[0].isupper() or w[0].isdigit() for w in words]
    joined = [i > 0 and text[matches[i - 1].end() : matches[i].start()].strip() == "" for i in range(len(words))]
    spans = []
    for start in range(len(words)):
        if not capital[start] or (start > 1 and capital[start - 1] and joined[start]):
            continue
        for end in range(start + 1, min(start + MAX_NAME_WORDS, len(words)) + 1):
            key = entity_key(" ".join(words[start:end]))
            if key in graph.graph and (end == len(words) or not (capital[end] and joined[end])):
                spans.append((start, end, key))
    spans.sort(key=lambda span: (span[0] - span[1], span[0]))
    taken: set[int] = set()
    keys: list[str] = []
    for start, end, key in spans:
        if taken.isdisjoint(range(start, end)) and key not in keys:
            keys.append(key)
            taken.update(range(start, end))
    if not keys and len(words) <= MAX_NAME_WORDS:
        keys = [key for key, _ in graph.find(text)[:1]]
    return keys


def pages_named_on(key: str, graph: EntityGraph, kb: KnowledgeBase) -> set[str]:
    """Entities with a page of their own that the entity's own page spells out, NER or not."""
    texts = kb.store.chunks(sorted(graph.graph.nodes[key]["home_chunks"]))
    return {page for chunk in texts.values() for page in graph.pages_named_in(chunk.text)} - {key}


def _found(passages: Sequence[Passage]) -> str:
    if not passages:
        return "no passages"
    return f"{len(passages)} passages: " + "; ".join(dict.fromkeys(p.doc_title for p in passages))


class Agent:
    """The loop for one question: `retrieve` runs plan, act and reflect; `answer` then drafts and verifies."""

    def __init__(self, ctx: LabContext, params: AgentParams, tools: Sequence[Tool] | None = None):
        self.ctx = ctx
        self.params = params
        self.tools = {tool.name: tool for tool in (tools if tools is not None else default_tools(ctx))}
        graph_tool = self.tools.get("graph")
        self.graph: EntityGraph | None = graph_tool.graph if isinstance(graph_tool, GraphLookup) else None
        self._started = 0.0

    def retrieve(self, question: str) -> AgentRun:
        self._started = time.perf_counter()
        named = named_entities(question, self.graph) if self.graph else []
        run = AgentRun(question, Trace(), named=named, top_k=self.ctx.settings.top_k)
        pending = deque(self._plan(run, question, named))
        done: set[tuple[str, str]] = set()
        last: tuple[str, str] | None = None
        while True:
            run.stop_reason = self._over_budget(run)
            if run.stop_reason:
                break
            sub = pending.popleft() if pending else self._next_sub_question(run, question, done)
            if sub is None:
                run.stop_reason = "nothing left to follow or switch to; answering with what was found"
                break
            choice = Decision(sub.tool, "rule: switch tool") if sub.tool else self._choose_tool(sub)
            tool = choice.choice
            if (tool, sub.query) == last:
                run.stop_reason = f"repeated action {tool}({sub.query!r}) twice in a row; cut off"
                self._record(run, Step(len(run.steps) + 1, "act", sub.thought, tool, sub.query, run.stop_reason))
                break
            last = (tool, sub.query)
            done.add(last)
            result = self._act(run, tool, sub.query, sub.thought, choice.by)
            if not self.params.reflect:
                continue
            if not result.passages:
                switch = self._fallback_tool(sub.query, tried=tool)
                self._record(run, Step(len(run.steps) + 1, "reflect", f"{tool} found nothing; switch to {switch}.",
                                       switch, sub.query, "nothing retrieved", decided_by="rule"))
                pending.appendleft(SubQuestion(sub.text, sub.query, f"{tool} found nothing; try {switch}.", switch))
                continue
            if pending:
                continue
            if self._reflect(run, question):
                run.stop_reason = "evidence judged sufficient"
                break
        self._record(run, Step(len(run.steps) + 1, "stop", "Stop retrieving.", FINISH, observation=run.stop_reason))
        return run

    def _next_sub_question(self, run: AgentRun, question: str, done: set[tuple[str, str]]) -> "SubQuestion | None":
        """The question filled in with the next bridge entity, or the question again with a tool not yet tried."""
        bridge = self._bridge(run, question)
        if bridge is not None:
            thought = f"The passages name {bridge}, which the question does not; follow it."
            return SubQuestion(f"{question} ({bridge})", bridge, thought)
        untried = [name for name in self.tools if (name, question) not in done]
        if untried:
            return SubQuestion(question, question, f"No entity left to follow; switch to {untried[0]}.", untried[0])
        return None

    def answer(self, run: AgentRun) -> str:
        """Draft from the best passages; with `verify`, check support, retrieve once more if unsupported."""
        if not run.passages:
            self._record(run, Step(len(run.steps) + 1, "verify", "Nothing was retrieved to support an answer.",
                                   FINISH, observation=NOT_FOUND, decided_by="rule"))
            return NOT_FOUND
        text = self._draft(run)
        if not self.params.verify:
            return text
        if self._supported(run, text):
            return text
        if self._over_budget(run) or self.params.max_generated_tokens - run.generated_tokens < self.params.answer_tokens:
            return NOT_FOUND
        query = f"{run.question} {text}"
        self._act(run, self._fallback_tool(query, tried="graph"), query, "The answer is unsupported; retrieve once more.")
        text = self._draft(run)
        return text if self._supported(run, text) else NOT_FOUND

    def _plan(self, run: AgentRun, question: str, named: list[str]) -> list[SubQuestion]:
        """One sub-question per entity the question names, then the question itself; or just the question."""
        final = SubQuestion(question, question, "Answer the question itself.")
        if not self.params.plan or not named:
            return [final]
        with run.trace.stage("plan") as stage:
            started = time.perf_counter()
            choice = self._decide(multi_hop_prompt(question), YES_NO, fallback=" yes")
            subs = [final]
            if choice.choice == " yes":
                names = [self.graph.name(key) for key in named]
                subs = [SubQuestion(f"What does the corpus say about {n}?", n, f"The question names {n}; look it up.")
                        for n in names]
                subs.append(SubQuestion(question, question, "With what the sub-questions found, answer the question."))
            step = Step(len(run.steps) + 1, "plan", "Are follow-up questions needed? Split by the entities named.",
                        observation=" | ".join(sub.text for sub in subs), decided_by=choice.by,
                        ms=(time.perf_counter() - started) * 1000)
            self._keep(run, stage, step)
        return subs

    def _choose_tool(self, sub: SubQuestion) -> Decision:
        fallback = self._fallback_tool(sub.query)
        if len(self.tools) == 1:
            return Decision(fallback, "rule: the only tool")
        choice = self._decide(action_prompt(sub.text, sub.thought), [f" {name}" for name in self.tools],
                              fallback=f" {fallback}", neutral=action_prompt("N/A", "N/A"))
        return Decision(choice.choice.strip(), choice.by)

    def _fallback_tool(self, query: str, tried: str = "") -> str:
        """The graph when the input is an entity's name, dense search for a sentence, then any other tool."""
        is_a_name = self.graph is not None and len(query.split()) <= MAX_NAME_WORDS and named_entities(query, self.graph)
        preferred = ["graph", "search", "keyword"] if is_a_name else ["search", "keyword", "graph"]
        order = [name for name in preferred if name in self.tools] + [n for n in self.tools if n not in preferred]
        return next((name for name in order if name != tried), order[0])

    def _act(self, run: AgentRun, tool: str, query: str, thought: str, decided_by: str = "rule") -> ToolResult:
        with run.trace.stage("act") as stage:
            started = time.perf_counter()
            try:
                result = self.tools[tool].run(query, self.params.passages_per_step)
            except Exception as error:  # a failing tool is something the agent observes, not a crash
                log.warning("Tool %s failed on %r: %s", tool, query, error)
                result = ToolResult((), f"search failed: {type(error).__name__}: {error}")
            run.rankings.append(result.passages)
            step = Step(len(run.steps) + 1, "act", thought, tool, query, result.observation, result.passages,
                        decided_by, (time.perf_counter() - started) * 1000)
            self._keep(run, stage, step)
        return result

    def _reflect(self, run: AgentRun, question: str) -> bool:
        with run.trace.stage("reflect") as stage:
            started = time.perf_counter()
            evidence = run.passages[:EVIDENCE_PASSAGES]
            if not evidence:
                choice = Decision(" no", "rule: nothing retrieved yet")
            else:
                fallback = " yes" if self._covers_the_question(run) else " no"
                choice = self._decide(sufficiency_prompt(evidence, question), YES_NO, fallback=fallback)
            enough = choice.choice == " yes"
            verdict = "the evidence suffices" if enough else "the evidence does not suffice yet"
            step = Step(len(run.steps) + 1, "reflect", "Does the evidence answer the question?",
                        FINISH if enough else "", observation=verdict, decided_by=choice.by,
                        ms=(time.perf_counter() - started) * 1000)
            self._keep(run, stage, step)
        return enough

    def _bridge(self, run: AgentRun, question: str) -> str | None:
        """The entity to follow next: named by the passages, not by the question, not followed before."""
        candidates = self._bridge_candidates(run, question)
        if len(candidates) <= 1:
            run.bridges.extend(candidates)
            return candidates[0] if candidates else None
        evidence = run.passages[:EVIDENCE_PASSAGES]
        prompt = _BRIDGE_EXAMPLE + passage_lines(evidence) + f"Question: {question}\nNext to look up:"
        with run.trace.stage("reflect") as stage:
            started = time.perf_counter()
            choice = self._decide(prompt, [f" {c}" for c in candidates], fallback=f" {candidates[0]}")
            step = Step(len(run.steps) + 1, "reflect", "Which entity of the passages leads on?",
                        observation=f"follow {choice.choice.strip()} (of {', '.join(candidates)})",
                        decided_by=choice.by, ms=(time.perf_counter() - started) * 1000)
            self._keep(run, stage, step)
        run.bridges.append(choice.choice.strip())
        return choice.choice.strip()

    def _bridge_candidates(self, run: AgentRun, question: str, limit: int = 3) -> list[str]:
        """Entities with a page of their own, mentioned by the passages found, not named by the question and
        not followed yet, and linked in the graph to an entity the question names or a bridge followed
        before (from the two best passages when the question names none); strongest first, the fallback order.

        Strength is the entity's specificity summed over the passages mentioning it, each weighted by 1/rank,
        plus its links to the entities already followed, each relative to that entity's strongest link: a
        film's director is linked to the film by name and verb, a distractor passage's names are not. A page
        spelled out on a followed entity's own page is linked to it too.
        """
        if self.graph is None:
            return []
        asked = f" {entity_key(question)} "
        followed = [*run.named, *(key for b in run.bridges for key in named_entities(b, self.graph)[:1])]
        strength: dict[str, float] = {}
        linked: set[str] = set()
        for rank, passage in enumerate(run.passages, start=1):
            entities = self.graph.chunk_entities.get(passage.chunk_id, {})
            spelled = self.graph.pages_named_in(passage.text)
            on_a_followed_page = any(entities.get(key) for key in followed)
            for key in set(entities) | spelled:
                node = self.graph.graph.nodes.get(key)
                if node is None or not node["home_chunks"] or entities.get(key) or key in followed or f" {key} " in asked:
                    continue
                strength[key] = strength.get(key, 0.0) + self.graph.specificity(key) / rank
                if on_a_followed_page:
                    linked.add(key)
        for source in followed:
            links = self.graph.graph[source]
            strongest = max((d["weight"] for d in links.values()), default=1.0)
            for key in strength:
                if key in links:
                    strength[key] += links[key]["weight"] / strongest
                    linked.add(key)
        if followed:
            strength = {key: value for key, value in strength.items() if key in linked}
        else:
            near = {key for p in run.passages[:2] for key in self.graph.chunk_entities.get(p.chunk_id, {})}
            strength = {key: value for key, value in strength.items() if key in near}
        ranked = sorted(strength, key=lambda k: (-strength[k], k))[:limit]
        return [self.graph.name(key) for key in ranked]

    def _covers_the_question(self, run: AgentRun) -> bool:
        """The fallback judgement: the pages of the entities the question names are found, and either it names
        two or more (a comparison) or a bridge was followed; without named entities, anything found."""
        found = run.passages
        if not run.named or self.graph is None:
            return bool(found)
        found_ids = {p.chunk_id for p in found}
        pages = [self.graph.graph.nodes[key]["home_chunks"] for key in run.named]
        covered = all(home & found_ids for home in pages if home)
        return covered and (len(run.named) >= 2 or bool(run.bridges))

    def _draft(self, run: AgentRun) -> str:
        with run.trace.stage("generate") as stage:
            started = time.perf_counter()
            tokens = min(self.params.answer_tokens, self.params.max_generated_tokens - run.generated_tokens)
            prompt = answer_prompt(run.question, run.passages, self.ctx.settings.answer_template)
            text = run.trace.record(self.ctx.generator.generate(prompt, stop=ANSWER_STOP, max_new_tokens=max(tokens, 1)))
            step = Step(len(run.steps) + 1, "answer", "Answer from the best passages.", observation=text,
                        ms=(time.perf_counter() - started) * 1000)
            self._keep(run, stage, step)
        return text

    def _supported(self, run: AgentRun, text: str) -> bool:
        with run.trace.stage("verify") as stage:
            started = time.perf_counter()
            evidence = run.passages[:EVIDENCE_PASSAGES]
            lexical = " yes" if _spelled_in(text, evidence) else " no"
            choice = (
                self._decide(support_prompt(evidence, run.question, text), YES_NO, fallback=lexical)
                if text else Decision(" no", "rule: empty answer")
            )
            supported = choice.choice == " yes"
            verdict = "supported by the passages" if supported else "not supported by the passages"
            step = Step(len(run.steps) + 1, "verify", f"Is {text!r} supported by a passage?", observation=verdict,
                        decided_by=choice.by, ms=(time.perf_counter() - started) * 1000)
            self._keep(run, stage, step)
        return supported

    def _decide(self, prompt: str, choices: Sequence[str], fallback: str, neutral: str = "") -> Decision:
        """The likeliest continuation, unless it leads the next by less than the margin: then the fallback.

        With `neutral`, the same prompt with its content replaced by "N/A", the scores are calibrated: the
        choices' log-likelihood there is subtracted, so a base model's standing preference for one tool name
        does not decide for it (contextual calibration, Zhao et al., 2021). Yes/no judgements are left
        uncalibrated: calibrated, the 270M model turns from undecided (the rule decides) to a confident " no".
        """
        scores = self.ctx.generator.score(prompt, choices)
        if neutral:
            prior = _content_free_scores(self.ctx.generator, neutral, tuple(choices))
            scores = [score - bias for score, bias in zip(scores, prior)]
        ranked = sorted(zip(scores, choices), reverse=True)
        lead = ranked[0][0] - ranked[1][0] if len(ranked) > 1 else float("inf")
        if lead < self.params.decision_margin:
            return Decision(fallback, f"rule (the generator's lead was {lead:.2f} nats)")
        return Decision(ranked[0][1], f"generator (lead {lead:.2f} nats)")

    def _over_budget(self, run: AgentRun) -> str:
        tool_steps = sum(step.kind == "act" for step in run.steps)
        if tool_steps >= self.params.max_steps:
            return f"budget: {self.params.max_steps} tool steps used"
        if self.params.max_generated_tokens - run.generated_tokens < self.params.answer_tokens:
            return f"budget: {self.params.max_generated_tokens} generated tokens, less than an answer left"
        if time.perf_counter() - self._started >= self.params.max_seconds:
            return f"budget: {self.params.max_seconds:g} s of wall time"
        return ""

    def _record(self, run: AgentRun, step: Step) -> None:
        with run.trace.stage(step.kind) as stage:
            self._keep(run, stage, step)

    @staticmethod
    def _keep(run: AgentRun, stage, step: Step) -> None:
        run.steps.append(step)
        stage.detail.update(step.to_detail())


@lru_cache(maxsize=64)
def _content_free_scores(generator: Generator, neutral: str, choices: tuple[str, ...]) -> tuple[float, ...]:
    """The choices' scores on the content-free prompt: the model's prior, subtracted before deciding."""
    return tuple(generator.score(neutral, choices))


def multi_hop_prompt(question: str) -> str:
    return _MULTI_HOP_EXAMPLES + f"Question: {question}\nAre follow up questions needed here:"


def action_prompt(sub_question: str, thought: str) -> str:
    return _ACTION_EXAMPLES + f"Question: {sub_question}\nThought: {thought}\nAction:"


def sufficiency_prompt(passages: Sequence[Passage], question: str) -> str:
    return _SUFFICIENCY_EXAMPLES + passage_lines(passages) + f"Question: {question}\nEnough to answer:"


def support_prompt(passages: Sequence[Passage], question: str, answer: str) -> str:
    return _SUPPORT_EXAMPLES + passage_lines(passages) + f"Question: {question}\nAnswer: {answer}\nSupported:"


def passage_lines(passages: Sequence[Passage]) -> str:
    return "".join(f"Passage ({p.doc_title}): {' '.join(p.text.split())[:PASSAGE_CHARS]}\n" for p in passages)


def _spelled_in(text: str, passages: Sequence[Passage]) -> bool:
    """True when every word of the answer appears in one passage, or it is a bare yes or no (no span to check)."""
    words = set(entity_key(text).split())
    if words and words <= {"yes", "no"}:
        return bool(passages)
    return bool(words) and any(words <= set(entity_key(p.text + " " + p.doc_title).split()) for p in passages)
