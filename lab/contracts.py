"""The records that cross module boundaries, and the contract every strategy satisfies."""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from lab.tracing import Trace

if TYPE_CHECKING:
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


class Strategy(Protocol):
    name: str
    description: str

    def answer(self, question: str, ctx: LabContext) -> Answer: ...
