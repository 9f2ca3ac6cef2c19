"""The knowledge base's SQLite file: documents, their chunks, and the sources already ingested.

Chunk ids are the FAISS ids too, so they are AUTOINCREMENT: an id is never reused after a delete.

Documents are unique by content hash, so the same paragraph in two files is stored once. Sources
remember each file's hash and chunker, so re-ingesting an unchanged file does nothing.
"""

import hashlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lab.kb.links import page_name

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    chunker TEXT NOT NULL,
    n_tokens INTEGER NOT NULL,
    text TEXT NOT NULL,
    section TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS links (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS links_by_doc ON links(doc_id);
CREATE TABLE IF NOT EXISTS anchors (
    doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS anchors_by_label ON anchors(label);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    file_hash TEXT NOT NULL,
    chunker TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StoredChunk:
    id: int
    doc_id: int
    title: str
    start_char: int
    end_char: int
    chunker: str
    n_tokens: int
    text: str
    section: str = ""
    """"Page › Section › Subsection": where in its page the chunk sits ('' for a page without headings)."""


@dataclass(frozen=True)
class NewChunk:
    title: str
    start_char: int
    end_char: int
    chunker: str
    n_tokens: int
    text: str
    section: str = ""


@dataclass(frozen=True)
class NewDocument:
    """A document ready to write: its chunks, and the links and anchors its parser found, by position."""

    title: str
    source: str
    content_hash: str
    text: str
    chunks: list[NewChunk]
    links: tuple[tuple[int, str, str], ...] = ()
    anchors: tuple[tuple[int, str], ...] = ()


class ChunkStore:
    def __init__(self, path: Path):
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        if "section" not in columns:  # a knowledge base built before chunks had section paths
            with self._db:
                self._db.execute("ALTER TABLE chunks ADD COLUMN section TEXT NOT NULL DEFAULT ''")

    def close(self) -> None:
        self._db.close()

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def source_is_current(self, path: str, file_hash: str, chunker: str) -> bool:
        row = self._db.execute("SELECT file_hash, chunker FROM sources WHERE path = ?", (path,)).fetchone()
        return row == (file_hash, chunker)

    def has_document(self, content_hash: str) -> bool:
        return self._db.execute("SELECT 1 FROM documents WHERE content_hash = ?", (content_hash,)).fetchone() is not None

    def documents_from(self, source: str) -> dict[str, int]:
        """Content hash to document id, for the documents an earlier ingest took from `source`."""
        return dict(self._db.execute("SELECT content_hash, id FROM documents WHERE source = ?", (source,)).fetchall())

    def chunk_ids_of(self, doc_ids: Iterable[int]) -> list[int]:
        ids = list(doc_ids)
        marks = ",".join("?" * len(ids))
        return [r[0] for r in self._db.execute(f"SELECT id FROM chunks WHERE doc_id IN ({marks})", ids)] if ids else []

    def write(
        self,
        documents: list[NewDocument],
        sources: list[tuple[str, str, str]],
        replaced_doc_ids: list[int],
    ) -> list[int]:
        """In one transaction: drop replaced documents, add new ones with their chunks, links and anchors,
        record sources. Returns the new chunk ids in order."""
        chunk_ids: list[int] = []
        with self._db:
            if replaced_doc_ids:
                marks = ",".join("?" * len(replaced_doc_ids))
                self._db.execute(f"DELETE FROM documents WHERE id IN ({marks})", replaced_doc_ids)
            for document in documents:
                doc_id = self._db.execute(
                    "INSERT INTO documents(title, source, content_hash, text) VALUES (?, ?, ?, ?)",
                    (document.title, document.source, document.content_hash, document.text),
                ).lastrowid
                for c in document.chunks:
                    chunk_ids.append(
                        self._db.execute(
                            "INSERT INTO chunks(doc_id, title, start_char, end_char, chunker, n_tokens, text, section)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (doc_id, c.title, c.start_char, c.end_char, c.chunker, c.n_tokens, c.text, c.section),
                        ).lastrowid
                    )
                self._db.executemany("INSERT INTO links(doc_id, position, kind, target) VALUES (?, ?, ?, ?)",
                                     [(doc_id, *link) for link in document.links])
                self._db.executemany("INSERT INTO anchors(doc_id, position, label) VALUES (?, ?, ?)",
                                     [(doc_id, *anchor) for anchor in document.anchors])
            self._db.executemany("INSERT OR REPLACE INTO sources(path, file_hash, chunker) VALUES (?, ?, ?)", sources)
        return chunk_ids

    def chunks(self, ids: Iterable[int]) -> dict[int, StoredChunk]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(
            f"SELECT id, doc_id, title, start_char, end_char, chunker, n_tokens, text, section FROM chunks WHERE id IN ({marks})",
            ids,
        )
        return {row[0]: StoredChunk(*row) for row in rows}

    def documents_named(self, name: str) -> list[int]:
        """Documents a link can name: by title, or by the file name of a source that holds only that document.

        A file of many records (a JSON list, a CSV) names none of them by its file name.
        """
        rows = self._db.execute(
            "SELECT id, title, source FROM documents WHERE lower(title) = ? OR source LIKE ?", (name, f"%{name}%")
        ).fetchall()
        by_title = [doc_id for doc_id, title, _ in rows if title.lower() == name]
        named = {source for _, _, source in rows if page_name(source) == name}
        sizes = dict(self._db.execute(
            f"SELECT source, COUNT(*) FROM documents WHERE source IN ({','.join('?' * len(named))}) GROUP BY source",
            sorted(named),
        ).fetchall()) if named else {}
        by_file = [doc_id for doc_id, _, source in rows if sizes.get(source) == 1]
        return list(dict.fromkeys([*by_title, *by_file]))

    def links_of(self, chunk_id: int) -> list[tuple[str, str]]:
        """(kind, target) of the links written inside the chunk, in order."""
        return self._db.execute(
            "SELECT l.kind, l.target FROM chunks c JOIN links l ON l.doc_id = c.doc_id"
            " WHERE c.id = ? AND l.position >= c.start_char AND l.position < c.end_char ORDER BY l.position",
            (chunk_id,),
        ).fetchall()

    def chunk_at_anchor(self, label: str, near_chunk: int) -> list[int]:
        """The chunk an anchor lands in (the first chunk ending after it), on the linking chunk's own page
        when that page has the label, else on every page that does."""
        rows = self._db.execute(
            "SELECT a.doc_id, (SELECT c.id FROM chunks c WHERE c.doc_id = a.doc_id AND c.end_char > a.position"
            " ORDER BY c.start_char LIMIT 1) FROM anchors a WHERE a.label = ?",
            (label,),
        ).fetchall()
        own = self._db.execute("SELECT doc_id FROM chunks WHERE id = ?", (near_chunk,)).fetchone()
        same_page = [chunk for doc_id, chunk in rows if own and doc_id == own[0] and chunk is not None]
        return same_page[:1] or list(dict.fromkeys(chunk for _, chunk in rows if chunk is not None))

    def all_chunks(self) -> list[StoredChunk]:
        rows = self._db.execute(
            "SELECT id, doc_id, title, start_char, end_char, chunker, n_tokens, text, section FROM chunks ORDER BY id"
        )
        return [StoredChunk(*row) for row in rows]

    def document_text(self, doc_id: int) -> str:
        row = self._db.execute("SELECT text FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else ""

    def fingerprint(self) -> str:
        """Changes whenever an ingest adds, replaces or removes anything: the sources, their hashes and
        chunkers, and the chunk ids."""
        digest = hashlib.sha256()
        for row in self._db.execute("SELECT path, file_hash, chunker FROM sources ORDER BY path"):
            digest.update("\0".join(row).encode())
        digest.update(str(self._db.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM chunks").fetchone()).encode())
        return digest.hexdigest()[:16]

    def all_chunk_ids_and_texts(self) -> tuple[list[int], list[str]]:
        rows = self._db.execute("SELECT id, text FROM chunks ORDER BY id").fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def source_paths(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT path FROM sources ORDER BY path")]

    def longest_document(self) -> tuple[str, str] | None:
        """Title and text of the longest document: the one where chunkers differ most, for a preview."""
        return self._db.execute("SELECT title, text FROM documents ORDER BY LENGTH(text) DESC LIMIT 1").fetchone()

    def chunk_token_counts(self) -> list[int]:
        return [row[0] for row in self._db.execute("SELECT n_tokens FROM chunks")]

    def counts(self) -> dict[str, int]:
        documents, = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()
        chunks, tokens = self._db.execute("SELECT COUNT(*), COALESCE(SUM(n_tokens), 0) FROM chunks").fetchone()
        sources, = self._db.execute("SELECT COUNT(*) FROM sources").fetchone()
        return {"documents": documents, "chunks": chunks, "tokens": tokens, "sources": sources}
