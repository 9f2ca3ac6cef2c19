"""The records that cross module boundaries, and the contract every strategy satisfies."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from lab.tracing import Trace

if TYPE_CHECKING:
    from pydantic import BaseModel

    from lab.embedding import Embedder
    from lab.generation import Generator
    from lab.knowledge_base import KnowledgeBase
    from lab.settings import LabSettings


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    doc_title: str
    score: float
    text: str


@dataclass(frozen=True)
class Answer:
    strategy: str
    text: str
    passages: tuple[Passage, ...]
    trace: Trace = field(compare=False)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The `raglab ask --json` object; other tools parse it, so its keys are a public contract."""
        return {
            "strategy": self.strategy,
            "answer": self.text,
            "error": self.error,
            "contexts": [
                {"doc_title": p.doc_title, "chunk_id": p.chunk_id, "score": p.score, "text": p.text}
                for p in self.passages
            ],
            "trace": self.trace.to_dict(),
        }


@dataclass(frozen=True)
class LabContext:
    """Everything a strategy may use, loaded once and shared by every strategy in a comparison."""

    settings: "LabSettings"
    generator: "Generator"
    embedder: "Embedder"
    kb: "KnowledgeBase"


@dataclass(frozen=True)
class Retrieval:
    """What a strategy found before it reads: passages in final rank order, and the trace so far."""

    passages: tuple[Passage, ...]
    trace: Trace = field(compare=False)


class Strategy(Protocol):
    """One file under `strategies/`: a slug, a docstring saying idea, source and cost, typed parameters.

    `Params` is a nested pydantic model whose fields carry defaults and ranges; the constructor takes
    one (None means the defaults) and loads nothing heavy. `stages` names, in order, the stages the
    trace of `answer` will hold with these parameters.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type["BaseModel"]]
    stages: tuple[str, ...]

    def answer(self, question: str, ctx: LabContext) -> Answer: ...


@runtime_checkable
class RetrievingStrategy(Strategy, Protocol):
    """A strategy whose passages can be had without generating the answer, as a retrieval bench wants.

    `answer` is then `retrieve` followed by one generation over the passages (`lab.reading`).
    """

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval: ...
