"""The records that cross room boundaries: a passage found, an answer given, a retrieval in progress.

The strategy protocol and the context a strategy receives sit in `lab.context`, above the rooms whose
objects a context holds.
"""

from dataclasses import dataclass, field
from typing import Any

from lab.core.tracing import Trace


@dataclass(frozen=True)
class Passage:
    chunk_id: int
    doc_title: str
    score: float
    text: str
    section: str = ""
    """"Page › Section › Subsection" where the chunk sits, when its page has headings: what a reader is told
    the passage is about, since a chunk of a long docs page rarely names its own subject."""


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
class Retrieval:
    """What a strategy found before it reads: passages in final rank order, and the trace so far."""

    passages: tuple[Passage, ...]
    trace: Trace = field(compare=False)
