"""What an ingest carries and reports: the batch being written, the report, and the text each index reads."""

from dataclasses import dataclass, field

from lab.kb.chunk_store import ChunkStore, NewDocument


@dataclass(frozen=True)
class FileFailure:
    path: str
    reason: str


@dataclass
class IngestReport:
    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    skipped: list[FileFailure] = field(default_factory=list)
    """Files in the given folders that were not read: a type the lab does not read, or hidden."""
    encodings: dict[str, str] = field(default_factory=dict)  # files read in an encoding other than UTF-8
    replaced_documents: int = 0
    documents_added: int = 0
    chunks_added: int = 0
    embed_seconds: float = 0.0


@dataclass
class IngestBatch:
    """Files read and chunked, not yet committed: written together in one transaction, or not at all."""

    documents: list[NewDocument] = field(default_factory=list)
    sources: list[tuple[str, str, str]] = field(default_factory=list)
    replaced_doc_ids: list[int] = field(default_factory=list)

    @property
    def chunk_count(self) -> int:
        return sum(len(document.chunks) for document in self.documents)


def embedding_text(title: str, text: str, section: str = "") -> str:
    """What the indexes read of a chunk: where it sits ("Page › Section", or the page title) above its text."""
    heading = section or title
    return f"{heading}\n{text}" if heading else text


def keyword_corpus(store: ChunkStore) -> tuple[list[int], list[str]]:
    ids = store.all_chunk_ids_and_texts()[0]
    chunks = store.chunks(ids)
    return ids, [embedding_text(chunks[i].title, chunks[i].text, chunks[i].section) for i in ids]
