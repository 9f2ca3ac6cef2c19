"""The entity graph's tables, in the knowledge base's own SQLite file, beside the chunks they come from.

Every fact is keyed by the chunk it was read from, with `ON DELETE CASCADE` on the chunk: when a
re-ingested document replaces its chunks, their graph facts go with them and nothing else is touched.
`graph_chunks` lists the chunks already read, so an update extracts only the chunks missing from it,
whether they are new or the knowledge base was ingested before the graph existed.
"""

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from lab.graph.entities import ChunkFacts, ChunkText, EntityExtractor

SCHEMA = """
CREATE TABLE IF NOT EXISTS graph_chunks (
    chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS graph_entities (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    label TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS graph_mentions (
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    count INTEGER NOT NULL,
    is_title INTEGER NOT NULL,
    PRIMARY KEY (chunk_id, key)
);
CREATE INDEX IF NOT EXISTS graph_mentions_by_key ON graph_mentions(key);
CREATE TABLE IF NOT EXISTS graph_cooccurrences (
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    count INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS graph_cooccurrences_by_chunk ON graph_cooccurrences(chunk_id);
CREATE TABLE IF NOT EXISTS graph_relations (
    chunk_id INTEGER NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    verb TEXT NOT NULL,
    object TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS graph_relations_by_chunk ON graph_relations(chunk_id);
CREATE TABLE IF NOT EXISTS graph_summaries (
    signature TEXT PRIMARY KEY,
    summary TEXT NOT NULL,
    written_by TEXT NOT NULL
);
"""

ProgressCallback = Callable[[float, str], None]


class GraphStore:
    def __init__(self, path: Path):
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "GraphStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fingerprint(self) -> str:
        """Changes whenever chunks are read in or dropped (chunk ids are never reused)."""
        count, last = self._db.execute("SELECT COUNT(*), COALESCE(MAX(chunk_id), 0) FROM graph_chunks").fetchone()
        return f"{count}:{last}"

    def unread_chunks(self) -> list[ChunkText]:
        rows = self._db.execute(
            "SELECT c.id, c.doc_id, c.title, c.text FROM chunks c"
            " WHERE c.id NOT IN (SELECT chunk_id FROM graph_chunks) ORDER BY c.doc_id, c.id"
        )
        return [ChunkText(*row) for row in rows]

    def write(self, facts: Sequence[ChunkFacts]) -> None:
        with self._db:
            for chunk in facts:
                self._db.execute("INSERT OR IGNORE INTO graph_chunks(chunk_id) VALUES (?)", (chunk.chunk_id,))
                for m in chunk.mentions:
                    self._db.execute(
                        "INSERT INTO graph_entities(key, name, label) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET"
                        " name = CASE WHEN ? THEN excluded.name ELSE name END,"
                        " label = CASE WHEN label = 'TITLE' THEN excluded.label ELSE label END",
                        (m.key, m.name, m.label, m.is_title),
                    )
                self._db.executemany(
                    "INSERT OR REPLACE INTO graph_mentions(chunk_id, key, count, is_title) VALUES (?, ?, ?, ?)",
                    [(chunk.chunk_id, m.key, m.count, m.is_title) for m in chunk.mentions],
                )
                self._db.executemany(
                    "INSERT INTO graph_cooccurrences(chunk_id, a, b, count) VALUES (?, ?, ?, ?)",
                    [(chunk.chunk_id, a, b, n) for a, b, n in chunk.cooccurrences],
                )
                self._db.executemany(
                    "INSERT INTO graph_relations(chunk_id, subject, verb, object) VALUES (?, ?, ?, ?)",
                    [(chunk.chunk_id, r.subject, r.verb, r.object) for r in chunk.relations],
                )

    def entities(self) -> list[tuple[str, str, str]]:
        """(key, name, label) of every entity some chunk still mentions."""
        return self._db.execute(
            "SELECT key, name, label FROM graph_entities WHERE key IN (SELECT key FROM graph_mentions)"
        ).fetchall()

    def mentions(self) -> list[tuple[int, str, int, bool]]:
        """(chunk_id, key, count, is_title) for every mention."""
        return [(c, k, n, bool(t)) for c, k, n, t in self._db.execute("SELECT * FROM graph_mentions")]

    def cooccurrences(self) -> list[tuple[str, str, int]]:
        return self._db.execute("SELECT a, b, SUM(count) FROM graph_cooccurrences GROUP BY a, b").fetchall()

    def relations(self) -> list[tuple[str, str, str, int]]:
        """(subject, verb, object, chunk_id) for every relation."""
        return self._db.execute("SELECT subject, verb, object, chunk_id FROM graph_relations").fetchall()

    def chunk_texts(self, chunk_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """Chunk id to (title, text)."""
        ids = list(chunk_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT id, title, text FROM chunks WHERE id IN ({marks})", ids)
        return {i: (title, text) for i, title, text in rows}

    def summaries(self) -> dict[str, tuple[str, str]]:
        """Community signature to (summary, written_by) for the generated summaries kept so far."""
        return {s: (text, by) for s, text, by in self._db.execute("SELECT * FROM graph_summaries")}

    def keep_summary(self, signature: str, summary: str, written_by: str) -> None:
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO graph_summaries VALUES (?, ?, ?)", (signature, summary, written_by)
            )


GRAPH_BATCH_CHUNKS = 2000
"""Chunks parsed and committed together; spaCy's parsed documents are large, so memory holds one batch."""


def update_graph(path: Path, extractor: EntityExtractor, on_progress: ProgressCallback | None = None) -> int:
    """Read the entities of every chunk not yet in the graph; returns how many chunks were read.

    Batches hold whole documents (aliases are resolved within a document) and are committed one by one,
    so memory stays flat however large the corpus, and a killed update loses at most one batch.
    """
    with GraphStore(path) as store:
        chunks = store.unread_chunks()
        done = 0
        for batch in _whole_documents(chunks, GRAPH_BATCH_CHUNKS):
            start = done

            def progress(fraction: float, message: str) -> None:
                read = start + int(fraction * len(batch))
                if on_progress:
                    on_progress(read / len(chunks), f"entities in {read}/{len(chunks)} chunks")

            store.write(extractor.extract(batch, progress))
            done += len(batch)
        return len(chunks)


def _whole_documents(chunks: list[ChunkText], size: int) -> Iterator[list[ChunkText]]:
    """Consecutive runs of about `size` chunks, never splitting a document (chunks come ordered by document)."""
    batch: list[ChunkText] = []
    for chunk in chunks:
        if len(batch) >= size and chunk.doc_id != batch[-1].doc_id:
            yield batch
            batch = []
        batch.append(chunk)
    if batch:
        yield batch


def unread_chunk_count(path: Path) -> int:
    with GraphStore(path) as store:
        return len(store.unread_chunks())
