"""The knowledge base's SQLite file: documents, their chunks, and the sources already ingested.

Chunk ids are the FAISS ids too, so they are AUTOINCREMENT: an id is never reused after a delete.

Documents are unique by content hash, so the same paragraph in two files is stored once. Sources
remember each file's hash and chunker, so re-ingesting an unchanged file does nothing.
"""

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
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_doc ON chunks(doc_id);
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


@dataclass(frozen=True)
class NewChunk:
    title: str
    start_char: int
    end_char: int
    chunker: str
    n_tokens: int
    text: str


class ChunkStore:
    def __init__(self, path: Path):
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

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
        documents: list[tuple[str, str, str, str, list[NewChunk]]],
        sources: list[tuple[str, str, str]],
        replaced_doc_ids: list[int],
    ) -> list[int]:
        """In one transaction: drop replaced documents, add new ones with their chunks, record sources.

        `documents` holds (title, source, content_hash, text, chunks); returns the new chunk ids in order.
        """
        chunk_ids: list[int] = []
        with self._db:
            if replaced_doc_ids:
                marks = ",".join("?" * len(replaced_doc_ids))
                self._db.execute(f"DELETE FROM documents WHERE id IN ({marks})", replaced_doc_ids)
            for title, source, content_hash, text, chunks in documents:
                doc_id = self._db.execute(
                    "INSERT INTO documents(title, source, content_hash, text) VALUES (?, ?, ?, ?)",
                    (title, source, content_hash, text),
                ).lastrowid
                for c in chunks:
                    chunk_ids.append(
                        self._db.execute(
                            "INSERT INTO chunks(doc_id, title, start_char, end_char, chunker, n_tokens, text)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (doc_id, c.title, c.start_char, c.end_char, c.chunker, c.n_tokens, c.text),
                        ).lastrowid
                    )
            self._db.executemany("INSERT OR REPLACE INTO sources(path, file_hash, chunker) VALUES (?, ?, ?)", sources)
        return chunk_ids

    def chunks(self, ids: Iterable[int]) -> dict[int, StoredChunk]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT * FROM chunks WHERE id IN ({marks})", ids)
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

    def chunks_containing(self, fragment: str) -> list[int]:
        return [row[0] for row in self._db.execute("SELECT id FROM chunks WHERE instr(text, ?) > 0", (fragment,))]

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
