"""What the agent loop works with and leaves behind: its parameters, steps, run and decisions.

Every other module of the agent reads and writes these records, so they sit below all of them and import
none of them; the constants shared across modules (the finish action, the "not found" answer, the yes/no choices)
live here too.
"""

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from lab.core.contracts import Passage
from lab.core.parameters import BUDGET
from lab.core.tracing import Stage, Trace
from lab.graph.linking import COMMON_SHARE

NOT_FOUND = "not found in the corpus"
FINISH = "finish"
YES_NO = (" yes", " no")
EVIDENCE_PASSAGES = 3
MIN_EVIDENCE_WORDS = 5
"""The agent reflects, verifies and searches from its best 3 passages, and searches with their sentences of at least
5 words. Chosen by hand, not searched; `bench/answers.py` reads agentic at these values on both demos."""


class AgentParams(BaseModel):
    """The loop's budget and decision thresholds, shared by every strategy that runs it."""

    model_config = ConfigDict(extra="forbid")

    max_steps: int = Field(5, ge=1, le=20, description="Most tool calls (search, keyword, graph lookups).")
    max_generated_tokens: int = Field(128, json_schema_extra=BUDGET, ge=8, le=4096, description="Most tokens generated over the whole loop.")
    max_seconds: float = Field(120.0, json_schema_extra=BUDGET, gt=0, le=3600, description="Wall time after which no new step starts.")
    answer_tokens: int = Field(32, json_schema_extra=BUDGET, ge=4, le=256, description="Longest answer, held in reserve from the token budget.")
    passages_per_step: int = Field(
        10, ge=1, le=50,
        description="Passages each tool call returns; more than top_k leaves room for a second document per step.",
    )
    decision_margin: float = Field(
        1.0, ge=0.0, le=10.0, description="Nats the likeliest choice must lead by; closer calls take the fallback rule."
    )
    plan: bool = Field(True, description="Split the question into sub-questions, one per entity it names.")
    common_share: float = Field(
        COMMON_SHARE, ge=0.0, le=1.0,
        description="An entity without a page of its own that more than this share of chunks mention gets no sub-question.",
    )
    hybrid_search: bool = Field(
        False, description="The search tool fuses dense and keyword hits by reciprocal rank instead of dense alone."
    )
    follow_evidence: bool = Field(
        True,
        description="After the planned steps, search once with the found sentence closest to the question, "
        "for the page it leads to.",
    )
    follow_links: bool = Field(
        True,
        description="Then add, for each page or section the best passages link to (Markdown, MyST or wiki links), "
        "its passage closest to the question.",
    )
    reflect: bool = Field(True, description="Judge after each retrieval whether the evidence suffices.")
    verify: bool = Field(True, description="Check the answer against the passages before giving it.")


@dataclass(frozen=True)
class ToolResult:
    passages: tuple[Passage, ...]
    observation: str


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
        """Round robin over the tool steps: every step's first passage, then every step's second, and so on;
        then each document's first passage ahead of the documents' second ones.

        Each sub-question's best evidence so reaches the top-k; fusion that rewards agreement between steps
        (`lab.fusion`) would lift the generic passages every search returns over a hop's single page. A long
        page split into chunks would otherwise fill the top-k with itself (documents are told apart by title).
        """
        picked: dict[int, Passage] = {}
        for rank in range(max((len(r) for r in self.rankings), default=0)):
            for ranking in self.rankings:
                if rank < len(ranking) and ranking[rank].chunk_id not in picked:
                    picked[ranking[rank].chunk_id] = ranking[rank]
        firsts: dict[str, Passage] = {}
        for passage in picked.values():
            firsts.setdefault(passage.doc_title, passage)
        repeats = [p for p in picked.values() if firsts[p.doc_title] is not p]
        return tuple([*firsts.values(), *repeats])[: self.top_k]

    @property
    def generated_tokens(self) -> int:
        return sum(call.new_tokens for call in self.trace.llm_calls)

    def keep(self, stage: Stage, step: Step) -> None:
        """Append the step to the run and show it as the detail of its trace stage."""
        self.steps.append(step)
        stage.detail.update(step.to_detail())


@dataclass(frozen=True)
class SubQuestion:
    """A planned step: the sub-question, the tool input it becomes, the thought, and a tool if one is forced."""

    text: str
    query: str
    thought: str
    tool: str = ""
    leaving: str = ""
    """The document the query was read from, whose passages the step leaves out: it looks for another."""


@dataclass(frozen=True)
class Decision:
    choice: str
    by: str
