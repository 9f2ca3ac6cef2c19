"""What an ingest carries and reports: a document as chunks to write, the batch, the report, and the text each index reads."""

from dataclasses import dataclass, field

from lab.kb.chunk_store import ChunkStore, NewChunk, NewDocument
from lab.kb.chunking import Chunker, TokenCounter
from lab.kb.loaders import Document
from lab.kb.page_text import section_path


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


def chunked_document(
    document: Document, source: str, content_hash: str, chunker: Chunker, tokens: TokenCounter
) -> NewDocument:
    """A document cut into chunks, each with its section path, and with its parsed links and anchors."""
    structure = document.structure
    chunks = [
        NewChunk(document.title, span.start, span.end, chunker.name, tokens.count(text), text,
                 section_path(document.title, structure.headings, span.start) if structure.headings else "")
        for span in chunker.split(document.text)
        if (text := document.text[span.start : span.end])
    ]
    return NewDocument(
        document.title, source, content_hash, document.text, chunks,
        tuple((link.position, link.link.kind, link.link.target) for link in structure.links),
        tuple((anchor.position, anchor.label) for anchor in structure.anchors),
    )


def embedding_text(title: str, text: str, section: str = "") -> str:
    """What the indexes read of a chunk: where it sits ("Page › Section", or the page title) above its text."""
    heading = section or title
    return f"{heading}\n{text}" if heading else text


def keyword_corpus(store: ChunkStore) -> tuple[list[int], list[str]]:
    ids = store.all_chunk_ids_and_texts()[0]
    chunks = store.chunks(ids)
    return ids, [embedding_text(chunks[i].title, chunks[i].text, chunks[i].section) for i in ids]
