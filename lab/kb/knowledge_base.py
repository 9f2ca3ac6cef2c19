"""A knowledge base: one folder holding the SQLite store, the FAISS index and the BM25 index.

Built once by `ingest` and reopened without re-embedding anything. Chunks are embedded with their
document title in front (as DPR does, Karpukhin et al. 2020): a paragraph rarely repeats the name of
its subject, and the title is often the very entity a question names.

FAISS (`lab.kb.dense_index`) is imported where an index is opened or begun, so listing the knowledge
bases, as every web page does before it draws, loads none.
"""

import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from lab.core.contracts import Passage
from lab.core.locks import exclusive
from lab.kb.chunk_store import ChunkStore, NewDocument, StoredChunk
from lab.kb.chunking import Chunker, TokenCounter
from lab.kb.embedding import Embedder
from lab.kb.ingest_records import (
    FileFailure, IngestBatch, IngestReport, chunked_document, embedding_text, keyword_corpus,
)
from lab.kb.keyword_index import KeywordIndex
from lab.kb.links import PAGE
from lab.kb.loaders import Document, UnreadableFile, find_files, load_documents

if TYPE_CHECKING:
    from lab.kb.dense_index import DenseIndex

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]
AfterWrite = Callable[[Path, ProgressCallback], object]
"""Called with the KB's SQLite file once new chunks are committed: how the entity graph keeps up."""
BATCH_CHUNKS = 2048
"""Chunks embedded and committed together: memory holds one batch, and a kill loses at most one. Chosen by hand;
`bench/scale.py` reads the peak RSS it gives a 100k-chunk ingest (2.08 GiB, under the 3 GB target)."""
DENSE_CHECKPOINT_CHUNKS = 32_768
"""Chunks between saves of the FAISS file during a long ingest; the rest is re-embedded by `repair` after a kill.
Chosen by hand, not measured."""
_VALID_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class KnowledgeBaseError(ValueError):
    pass


def _no_progress(fraction: float, message: str) -> None:
    return None


def knowledge_base_names(home: Path) -> list[str]:
    root = home / "kbs"
    return sorted(p.name for p in root.iterdir() if (p / "kb.sqlite").exists()) if root.exists() else []


def _keyword_index(folder: Path, store: ChunkStore) -> KeywordIndex:
    """The saved BM25 index, or one built in memory when it is missing, unreadable or behind the store (an
    ingest killed between committing chunks and saving BM25). Only an ingest, holding the KB's lock, saves it."""
    if not (folder / "chunk_ids.json").exists():
        return KeywordIndex.build(*keyword_corpus(store))
    try:
        keyword = KeywordIndex.load(folder)
        if len(keyword) == store.counts()["chunks"]:
            return keyword
    except Exception:  # derived data: a missing or damaged index is rebuilt from the store
        log.warning("Rebuilding the BM25 index of %s from its chunks", folder.parent.name)
    return KeywordIndex.build(*keyword_corpus(store))


class KnowledgeBase:
    def __init__(self, name: str, folder: Path, store: ChunkStore, dense: "DenseIndex | None", keyword: KeywordIndex):
        self.name = name
        self.folder = folder
        self.store = store
        self._dense = dense
        self._keyword = keyword

    @classmethod
    def open(cls, home: Path, name: str, create: bool = False) -> "KnowledgeBase":
        if not _VALID_NAME.match(name):
            raise KnowledgeBaseError(
                f"Invalid knowledge base name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)."
            )
        folder = home / "kbs" / name
        if not (folder / "kb.sqlite").exists() and not create:
            known = knowledge_base_names(home)
            hint = f"known: {', '.join(known)}" if known else "none exist yet"
            raise KnowledgeBaseError(
                f"No knowledge base {name!r} in {home} ({hint}). Create it with: raglab ingest PATH --kb {name}"
            )
        from lab.kb.dense_index import DenseIndex, IndexPlan

        folder.mkdir(parents=True, exist_ok=True)
        store = ChunkStore(folder / "kb.sqlite")
        plan = IndexPlan(**json.loads(recorded)) if (recorded := store.meta("index_plan")) else None
        dense = DenseIndex.load(folder / "dense.faiss", plan) if (folder / "dense.faiss").exists() else None
        return cls(name, folder, store, dense, _keyword_index(folder / "bm25", store))

    def close(self) -> None:
        self.store.close()

    @property
    def chunk_count(self) -> int:
        return self.store.counts()["chunks"]

    def index_sizes(self) -> dict[str, int]:
        """Chunks in the store and in each index: equal whenever no ingest is half done."""
        dense = len(self._dense) if self._dense is not None else 0
        return {"store": self.chunk_count, "dense": dense, "bm25": len(self._keyword)}

    def dense_index_info(self) -> dict[str, object]:
        """The dense index's kind, FAISS factory, parameters, bytes on disk and last build time, to show."""
        path = self.folder / "dense.faiss"
        plan = self._dense.plan if self._dense is not None else None
        return {
            "kind": plan.kind if plan else "none", "factory": plan.factory if plan else "", "params": plan.params if plan else {},
            "why": plan.why if plan else "",
            "bytes": path.stat().st_size if path.exists() else 0,
            "build_s": float(self.store.meta("index_build_s") or 0.0),
        }

    def _chunked(
        self, documents: list[Document], earlier: dict[str, int], seen_hashes: set[str], chunker: Chunker,
        tokens: TokenCounter, source: str,
    ) -> tuple[list[NewDocument], set[str]]:
        """One file's new documents with their chunks, and the hashes of all its documents (duplicates skipped)."""
        pending, file_hashes = [], set()
        for document in documents:
            content_hash = hashlib.sha256(f"{document.title}\0{document.text}".encode()).hexdigest()
            duplicate = content_hash in seen_hashes or content_hash in file_hashes or content_hash in earlier
            file_hashes.add(content_hash)
            if not duplicate and not self.store.has_document(content_hash):
                pending.append(chunked_document(document, source, content_hash, chunker, tokens))
        return pending, file_hashes

    def stats(self) -> dict[str, int | str]:
        return {"name": self.name, **self.store.counts(), "embedder": self.store.meta("embedder") or ""}

    def check_embedder(self, embedder: Embedder) -> None:
        built_with = self.store.meta("embedder")
        if built_with and built_with != embedder.model_id:
            raise KnowledgeBaseError(
                f"Knowledge base {self.name!r} was embedded with {built_with!r} but the embedder is "
                f"{embedder.model_id!r}; set RAGLAB_EMBEDDER={built_with} or ingest into a new knowledge base."
            )

    def ingest(
        self,
        paths: Iterable[Path],
        embedder: Embedder,
        chunker: Chunker,
        index_kind: str = "auto",
        on_progress: ProgressCallback = _no_progress,
        after_write: AfterWrite | None = None,
        batch_chunks: int = BATCH_CHUNKS,
    ) -> IngestReport:
        """Index every readable file, in batches of about `batch_chunks` chunks; name each file that is not.

        Each batch (its files' documents, chunks and source records) is committed in one transaction, so a
        killed ingest leaves whole files or nothing, and the next run skips the files already committed.
        Memory holds one batch. `after_write` runs on the KB's SQLite file at the end; `lab.ingestion` passes
        the entity graph's update there, and without it the graph reads new chunks on its first use.
        """
        self.check_embedder(embedder)
        with exclusive(self.folder / "ingest.lock", lambda pid: KnowledgeBaseError(
            f"Another ingest into {self.name!r} is running (pid {pid}); wait for it to finish, then run this again."
        )):
            self.repair(embedder)
            report = IngestReport()
            found = find_files(list(paths))
            files = found.files
            report.failures.extend(FileFailure(path, reason) for path, reason in found.missing)
            report.skipped.extend(FileFailure(path, reason) for path, reason in found.skipped)
            tokens = TokenCounter(embedder)
            batch, seen_hashes, unsaved = IngestBatch(), set(), 0
            for position, file in enumerate(files):
                done = position / max(len(files), 1)
                on_progress(0.9 * done, f"reading {file.name}")
                source = str(file.resolve())
                file_hash = hashlib.sha256(file.read_bytes()).hexdigest()
                if self.store.source_is_current(source, file_hash, chunker.name):
                    report.unchanged.append(str(file))
                    continue
                try:
                    documents = load_documents(file)
                except UnreadableFile as error:
                    report.failures.append(FileFailure(str(file), str(error)))
                    continue
                if documents[0].encoding != "utf-8":
                    report.encodings[str(file)] = documents[0].encoding
                earlier = self.store.documents_from(source)
                try:
                    file_pending, file_hashes = self._chunked(documents, earlier, seen_hashes, chunker, tokens, source)
                except Exception as error:  # a chunker that breaks on one file must not stop the others
                    report.failures.append(FileFailure(str(file), f"the {chunker.name} chunker failed on it: {error}"))
                    continue
                seen_hashes |= file_hashes
                batch.documents.extend(file_pending)
                batch.replaced_doc_ids.extend(doc_id for h, doc_id in earlier.items() if h not in seen_hashes)
                batch.sources.append((source, file_hash, chunker.name))
                report.indexed.append(str(file))
                if batch.chunk_count >= batch_chunks:
                    unsaved += self._commit(batch, embedder, report, lambda f, m: on_progress(0.9 * done, m))
                    batch = IngestBatch()
                if unsaved >= DENSE_CHECKPOINT_CHUNKS:
                    self._dense.save(self.folder / "dense.faiss")
                    unsaved = 0
            self._commit(batch, embedder, report, lambda f, m: on_progress(0.9, m))
            on_progress(0.92, "fitting the dense index")
            if built_s := self._dense.fit(index_kind):
                self.store.set_meta("index_build_s", f"{built_s:.2f}")
            self.store.set_meta("index_plan", json.dumps(dataclasses.asdict(self._dense.plan)))
            on_progress(0.93, "writing indexes")
            self._dense.save(self.folder / "dense.faiss")
            self.store.set_meta("embedder", embedder.model_id)
            if report.chunks_added or report.replaced_documents or len(self._keyword) != self.chunk_count:
                self._keyword = KeywordIndex.build(*keyword_corpus(self.store))
                self._keyword.save(self.folder / "bm25")
            if after_write is not None:
                after_write(self.store.path, lambda f, m: on_progress(0.93 + 0.06 * f, m))
        on_progress(1.0, f"indexed {report.chunks_added} new chunks from {len(report.indexed)} files")
        return report

    def _commit(
        self, batch: "IngestBatch", embedder: Embedder, report: IngestReport, on_progress: ProgressCallback
    ) -> int:
        """Embed a batch, write it in one transaction, then add its vectors; returns the chunks added."""
        import time

        texts = [embedding_text(d.title, c.text, c.section) for d in batch.documents for c in d.chunks]
        started = time.perf_counter()
        vectors = embedder.embed_many(texts, on_progress) if texts else None
        report.embed_seconds += time.perf_counter() - started
        replaced_chunk_ids = self.store.chunk_ids_of(batch.replaced_doc_ids)
        chunk_ids = self.store.write(batch.documents, batch.sources, batch.replaced_doc_ids)
        self._ensure_dense(embedder.dimension)
        self._dense.remove(replaced_chunk_ids)
        if vectors is not None:
            self._dense.add(np.asarray(chunk_ids), vectors)
        report.documents_added += len(batch.documents)
        report.chunks_added += len(chunk_ids)
        report.replaced_documents += len(batch.replaced_doc_ids)
        return len(chunk_ids)

    def _ensure_dense(self, dimension: int) -> None:
        """Begin the dense index, empty and exact, when the first vectors arrive."""
        if self._dense is None:
            from lab.kb.dense_index import DenseIndex

            self._dense = DenseIndex.empty(dimension)

    def repair(self, embedder: Embedder) -> int:
        """Embed chunks an interrupted ingest left out of the dense index; returns how many."""
        ids, _ = self.store.all_chunk_ids_and_texts()
        indexed = self._dense.ids() if self._dense is not None else set()
        missing = [i for i in ids if i not in indexed]
        orphans = list(indexed - set(ids))
        if not missing and not orphans:
            return 0
        log.warning("Repairing %s: %d chunks to embed, %d stale vectors", self.name, len(missing), len(orphans))
        self._ensure_dense(embedder.dimension)
        chunks = self.store.chunks(missing)
        if missing:
            texts = [embedding_text(chunks[i].title, chunks[i].text, chunks[i].section) for i in missing]
            self._dense.add(np.asarray(missing), embedder.embed_many(texts))
        self._dense.remove(orphans)
        self._dense.save(self.folder / "dense.faiss")
        return len(missing)

    def dense_search(self, vector: np.ndarray, k: int) -> list[Passage]:
        if self._dense is None or len(self._dense) == 0:
            return []
        scores, ids = self._dense.search(vector, k)
        return self.passages([(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0])

    def similarities(self, vector: np.ndarray, chunk_ids: Iterable[int]) -> dict[int, float]:
        """Cosine similarity of `vector` to each given chunk, from the stored vectors, without a search."""
        if self._dense is None:
            return {}
        return {i: float(v @ vector) for i, v in self._dense.vectors(chunk_ids).items()}

    def keyword_search(self, query: str, k: int) -> list[Passage]:
        return self.passages(self._keyword.search(query, k))

    def linked_chunks(self, chunk_id: int) -> list[list[int]]:
        """For each link the chunk makes to this corpus, the chunks it leads to: a page's chunks, or the
        chunk a section's anchor lands in. Links that resolve to nothing here are left out."""
        groups = []
        for kind, target in dict.fromkeys(self.store.links_of(chunk_id)):
            if kind == PAGE:
                chunk_ids = self.store.chunk_ids_of(self.store.documents_named(target))
            else:
                chunk_ids = self.store.chunk_at_anchor(target, chunk_id)
            if chunk_ids:
                groups.append(chunk_ids)
        return groups

    @property
    def database_path(self) -> Path:
        """The KB's SQLite file, whose tables the entity graph shares."""
        return self.store.path

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, StoredChunk]:
        """Stored chunks by id, with their document and text, for callers that need more than a passage."""
        return self.store.chunks(chunk_ids)

    def all_chunks(self) -> list[StoredChunk]:
        """Every chunk in id order: what a test set is drafted from."""
        return self.store.all_chunks()

    def document_text(self, doc_id: int) -> str:
        """A document's whole text, which chunk offsets and test-set answer spans index into."""
        return self.store.document_text(doc_id)

    def fingerprint(self) -> str:
        return self.store.fingerprint()

    def passages(self, scored: list[tuple[int, float]]) -> list[Passage]:
        """Chunk ids with scores, in the given order, as passages."""
        chunks = self.store.chunks(i for i, _ in scored)
        return [Passage(i, chunks[i].title, score, chunks[i].text, chunks[i].section) for i, score in scored if i in chunks]
