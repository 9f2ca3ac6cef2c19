"""The trace every strategy returns: what each stage cost, in time and in KV-cache memory.

Stages are timed with a monotonic clock around the real work. Each LLM call records its token
counts and the KV-cache bytes measured on the cache object generation returned, beside the figure
the model config predicts (see `lab.llm.kv_cache`), so a reader can trust and check the memory column.
On CUDA a stage also records the peak memory allocated while it ran. A strategy run by a team of agents
also marks whose work each stretch was (`Trace.lane`) and what they told each other (`Trace.message`), so
the trace can be drawn as one swim lane per agent.
"""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Generation:
    """What one generator call produced and cost; every backend returns one, and the trace records it."""

    text: str
    prompt_tokens: int
    new_tokens: int
    kv_bytes: int | None
    kv_bytes_theory: int | None
    ms: float


class Scores(list):
    """Log-likelihoods from one scoring call, one per continuation, plus how they were made and their cost.

    A list, so `yes, no = generator.score(...)` reads as it always did. `path` says how the numbers were
    made: "likelihood" where the backend read them off the model, or the constrained-choice route a
    backend without log-probabilities took (see `lab.llm.backend`).
    """

    def __init__(
        self,
        values: Sequence[float],
        path: str = "likelihood",
        prompt_tokens: int = 0,
        ms: float = 0.0,
        kv_bytes: int | None = None,
        kv_bytes_theory: int | None = None,
    ):
        super().__init__(float(v) for v in values)
        self.path = path
        self.prompt_tokens = prompt_tokens
        self.ms = ms
        self.kv_bytes = kv_bytes
        self.kv_bytes_theory = kv_bytes_theory


@dataclass(frozen=True)
class ScoringCall:
    stage: str
    options: int
    path: str
    prompt_tokens: int
    ms: float
    kv_bytes: int | None = None
    kv_bytes_theory: int | None = None


@dataclass(frozen=True)
class LLMCall:
    stage: str
    prompt_tokens: int
    new_tokens: int
    kv_bytes: int | None
    kv_bytes_theory: int | None
    ms: float


@dataclass
class Stage:
    name: str
    ms: float = 0.0
    peak_cuda_bytes: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LaneEvent:
    """One stretch of one agent's work, as its swim lane draws it: times are ms since the trace began."""

    agent: str
    activity: str
    start_ms: float
    end_ms: float
    llm_calls: int
    scoring_calls: int


@dataclass(frozen=True)
class Message:
    """What one agent handed another, and when (ms since the trace began)."""

    sender: str
    recipient: str
    at_ms: float
    text: str


@dataclass
class Trace:
    stages: list[Stage] = field(default_factory=list)
    llm_calls: list[LLMCall] = field(default_factory=list)
    scoring_calls: list[ScoringCall] = field(default_factory=list)
    generator: dict[str, Any] | None = None
    lanes: list[LaneEvent] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    _current: Stage | None = field(default=None, repr=False)
    _agent: str = field(default="", repr=False)
    _began: float = field(default_factory=time.perf_counter, repr=False)

    @contextmanager
    def stage(self, name: str) -> Iterator[Stage]:
        """Time the enclosed block as one named stage; nested LLM calls are attributed to it.

        torch (for the CUDA peak) loads here, where models have loaded it already, so the records stay light."""
        import torch

        stage = Stage(name, detail={"agent": self._agent} if self._agent else {})
        outer, self._current = self._current, stage
        on_cuda = torch.cuda.is_available()
        if on_cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        try:
            yield stage
        finally:
            if on_cuda:
                torch.cuda.synchronize()
                stage.peak_cuda_bytes = torch.cuda.max_memory_allocated()
            stage.ms = (time.perf_counter() - started) * 1000
            self._current = outer
            self.stages.append(stage)

    @contextmanager
    def lane(self, agent: str, activity: str) -> Iterator[None]:
        """Count the enclosed block as `agent`'s work: one bar of its lane, with the calls made inside it.

        Stages opened inside note the agent in their detail, so the steps of a team read agent by agent.
        """
        start_ms = self.elapsed_ms()
        llm_calls, scoring_calls = len(self.llm_calls), len(self.scoring_calls)
        outer, self._agent = self._agent, agent
        try:
            yield
        finally:
            self._agent = outer
            self.lanes.append(LaneEvent(agent, activity, start_ms, self.elapsed_ms(),
                                        len(self.llm_calls) - llm_calls, len(self.scoring_calls) - scoring_calls))

    def message(self, sender: str, recipient: str, text: str) -> None:
        """Keep what one agent of a team handed another, stamped with the time it was handed over."""
        self.messages.append(Message(sender, recipient, self.elapsed_ms(), text))

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self._began) * 1000

    def record(self, generation: Generation) -> str:
        """Attach one generation's cost to the current stage and hand back its text."""
        self.llm_calls.append(
            LLMCall(
                stage=self._current.name if self._current else "",
                prompt_tokens=generation.prompt_tokens,
                new_tokens=generation.new_tokens,
                kv_bytes=generation.kv_bytes,
                kv_bytes_theory=generation.kv_bytes_theory,
                ms=generation.ms,
            )
        )
        return generation.text

    def record_scores(self, scores: Scores) -> Scores:
        """Keep one scoring call, and the path its numbers took, on the current stage; hand the scores back."""
        self.scoring_calls.append(
            ScoringCall(
                stage=self._current.name if self._current else "",
                options=len(scores),
                path=scores.path,
                prompt_tokens=scores.prompt_tokens,
                ms=scores.ms,
                kv_bytes=scores.kv_bytes,
                kv_bytes_theory=scores.kv_bytes_theory,
            )
        )
        return scores

    def note(self, key: str, value: Any) -> None:
        """Keep something a reader of the trace needs (a draft, linked entities) on the current stage."""
        if self._current is None:
            raise RuntimeError("Trace.note() must be called inside a `with trace.stage(...)` block.")
        self._current.detail[key] = value

    @property
    def total_ms(self) -> float:
        return sum(stage.ms for stage in self.stages)

    @property
    def kv_bytes_peak(self) -> int:
        """The largest cache any one call held, generating or scoring."""
        return max((call.kv_bytes or 0 for call in [*self.llm_calls, *self.scoring_calls]), default=0)

    @property
    def kv_bytes_total(self) -> int:
        return sum(call.kv_bytes or 0 for call in [*self.llm_calls, *self.scoring_calls])

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": [asdict(stage) for stage in self.stages],
            "llm_calls": [asdict(call) for call in self.llm_calls],
            "scoring_calls": [asdict(call) for call in self.scoring_calls],
            "generator": self.generator,
            "lanes": [asdict(event) for event in self.lanes],
            "messages": [asdict(message) for message in self.messages],
            "total_ms": self.total_ms,
            "kv_bytes_total": self.kv_bytes_total,
            "kv_bytes_peak": self.kv_bytes_peak,
        }
