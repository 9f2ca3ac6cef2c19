"""The run store: one SQLite file in the lab home holding every evaluation run, item by item.

A run is its manifest (settings without secrets, model ids, file hashes, package versions, seed, git
commit), its QA items, and one result per (item, strategy): the answer, the contexts, the full trace,
the error if the strategy raised, and every metric value (NULL with a reason where it could not be
scored). Each result is committed in its own transaction together with its contexts and metrics, so a
killed run loses at most the result in flight and a resumed run finds exactly what is done; a result
is inserted, never replaced, so scoring one twice fails loudly instead of silently.

WAL lets readers (a report, the web lab) work while an eval writes; `BEGIN IMMEDIATE` with a busy
timeout makes two evals writing at once take turns instead of failing.
"""

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from eval.qa_sets import QAItem
from eval.scoring import MetricValue
from lab.core import Answer

BUSY_TIMEOUT_S = 60.0
RETRIED_ERROR = "GeneratorUnavailable:"
"""How a stored error starts when the generator was unreachable: such a result is tried again on resume."""
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    qa_path TEXT NOT NULL,
    qa_sha256 TEXT NOT NULL,
    kb TEXT NOT NULL,
    strategies TEXT NOT NULL,
    metrics TEXT NOT NULL,
    item_count INTEGER NOT NULL,
    manifest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    item_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    reference TEXT NOT NULL,
    reference_contexts TEXT NOT NULL,
    reference_doc_titles TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id)
);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    strategy TEXT NOT NULL,
    answer TEXT NOT NULL,
    error TEXT,
    trace TEXT NOT NULL,
    total_ms REAL NOT NULL,
    finished_at TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id, strategy)
);
CREATE TABLE IF NOT EXISTS contexts (
    run_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    strategy TEXT NOT NULL,
    rank INTEGER NOT NULL,
    chunk_id INTEGER NOT NULL,
    doc_title TEXT NOT NULL,
    score REAL NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id, strategy, rank)
);
CREATE TABLE IF NOT EXISTS metric_values (
    run_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    strategy TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    reason TEXT,
    PRIMARY KEY (run_id, item_id, strategy, metric)
);
CREATE TABLE IF NOT EXISTS run_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    message TEXT NOT NULL
);
"""


class RunStoreError(LookupError):
    pass


class RunBusy(RunStoreError):
    """Another process is evaluating the same run."""


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    created_at: str
    qa_path: str
    qa_sha256: str
    kb: str
    strategies: tuple[str, ...]
    metrics: tuple[str, ...]
    item_count: int
    manifest: dict[str, Any] = field(compare=False)


@dataclass(frozen=True)
class StoredResult:
    item_id: str
    strategy: str
    answer: str
    error: str | None
    trace: dict[str, Any]
    contexts: tuple[dict[str, Any], ...]
    metrics: dict[str, MetricValue]


@dataclass(frozen=True)
class RunSummary:
    run: RunRecord
    results_done: int
    errors: int


def run_store_path(home: Path) -> Path:
    return home / "runs.sqlite"


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._transaction():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    self._db.execute(statement)

    def close(self) -> None:
        self._db.close()

    def lock_file(self, run_id: str) -> Path:
        """Where the process evaluating `run_id` holds its lock (`lab.core.locks`)."""
        return self.path.parent / "locks" / f"{self.path.stem}-{re.sub(r'[^A-Za-z0-9_.-]', '_', run_id)}.lock"

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Take the write lock up front: a deferred transaction upgrading later can fail without waiting."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def create_run(self, run: RunRecord, items: tuple[QAItem, ...]) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.run_id, run.created_at, run.qa_path, run.qa_sha256, run.kb, json.dumps(run.strategies),
                    json.dumps(run.metrics), run.item_count, json.dumps(run.manifest, default=str),
                ),
            )
            db.executemany(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run.run_id, item.item_id, position, item.question, item.reference,
                        json.dumps(item.reference_contexts), json.dumps(item.reference_doc_titles),
                    )
                    for position, item in enumerate(items)
                ],
            )

    def run(self, run_id: str) -> RunRecord:
        row = self._db.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            known = [r[0] for r in self._db.execute("SELECT run_id FROM runs ORDER BY created_at DESC LIMIT 5")]
            hint = f"recent: {', '.join(known)}" if known else "the store holds no runs yet"
            raise RunStoreError(f"No run {run_id!r} in {self.path} ({hint}). List them with: raglab runs")
        return _run_record(row)

    def has_run(self, run_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is not None

    def items(self, run_id: str) -> list[QAItem]:
        rows = self._db.execute(
            "SELECT item_id, question, reference, reference_contexts, reference_doc_titles FROM items "
            "WHERE run_id = ? ORDER BY position",
            (run_id,),
        )
        return [QAItem(r[0], r[1], r[2], tuple(json.loads(r[3])), tuple(json.loads(r[4]))) for r in rows]

    def finished(self, run_id: str) -> set[tuple[str, str]]:
        """(item id, strategy) pairs already stored, errors included: they are results too.

        All but one kind: a result that failed because the generator could not be reached is stored
        so a report shows it, and left out here so that resuming the run tries it again.
        """
        rows = self._db.execute(
            "SELECT item_id, strategy FROM results WHERE run_id = ? AND (error IS NULL OR error NOT LIKE ?)",
            (run_id, RETRIED_ERROR + "%"),
        )
        return set(rows.fetchall())

    def save_result(self, run_id: str, item_id: str, answer: Answer, metrics: dict[str, MetricValue]) -> None:
        key = (run_id, item_id, answer.strategy)
        with self._transaction() as db:
            for table in ("results", "contexts", "metric_values"):
                db.execute(f"DELETE FROM {table} WHERE run_id = ? AND item_id = ? AND strategy = ?", key)
            db.execute(
                "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key, answer.text, answer.error, json.dumps(answer.trace.to_dict()), answer.trace.total_ms, now()),
            )
            db.executemany(
                "INSERT INTO contexts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(*key, rank, p.chunk_id, p.doc_title, p.score, p.text) for rank, p in enumerate(answer.passages, 1)],
            )
            db.executemany(
                "INSERT INTO metric_values VALUES (?, ?, ?, ?, ?, ?)",
                [(*key, name, value.value, value.reason) for name, value in metrics.items()],
            )

    def add_event(self, run_id: str, kind: str, message: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO run_events(run_id, at, kind, message) VALUES (?, ?, ?, ?)", (run_id, now(), kind, message))

    def events(self, run_id: str) -> list[tuple[str, str, str]]:
        return self._db.execute("SELECT at, kind, message FROM run_events WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()

    def results(self, run_id: str) -> list[StoredResult]:
        contexts: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for item_id, strategy, rank, chunk_id, title, score, text in self._db.execute(
            "SELECT item_id, strategy, rank, chunk_id, doc_title, score, text FROM contexts WHERE run_id = ? "
            "ORDER BY item_id, strategy, rank",
            (run_id,),
        ):
            contexts.setdefault((item_id, strategy), []).append(
                {"rank": rank, "chunk_id": chunk_id, "doc_title": title, "score": score, "text": text}
            )
        metrics: dict[tuple[str, str], dict[str, MetricValue]] = {}
        for item_id, strategy, metric, value, reason in self._db.execute(
            "SELECT item_id, strategy, metric, value, reason FROM metric_values WHERE run_id = ?", (run_id,)
        ):
            metrics.setdefault((item_id, strategy), {})[metric] = MetricValue(value, reason)
        rows = self._db.execute(
            "SELECT r.item_id, r.strategy, r.answer, r.error, r.trace FROM results r "
            "JOIN items i ON i.run_id = r.run_id AND i.item_id = r.item_id WHERE r.run_id = ? ORDER BY i.position",
            (run_id,),
        )
        return [
            StoredResult(
                item_id, strategy, answer, error, json.loads(trace),
                tuple(contexts.get((item_id, strategy), ())), metrics.get((item_id, strategy), {}),
            )
            for item_id, strategy, answer, error, trace in rows
        ]

    def summaries(self) -> list[RunSummary]:
        """Every run, newest first, with how many results it holds and how many of those are errors."""
        rows = self._db.execute(
            "SELECT runs.*, COUNT(results.item_id), COUNT(results.error) FROM runs "
            "LEFT JOIN results ON results.run_id = runs.run_id GROUP BY runs.run_id ORDER BY runs.created_at DESC"
        ).fetchall()
        return [RunSummary(_run_record(row[:9]), row[9], row[10]) for row in rows]


def _run_record(row: tuple) -> RunRecord:
    run_id, created_at, qa_path, qa_sha256, kb, strategies, metrics, item_count, manifest = row
    return RunRecord(
        run_id, created_at, qa_path, qa_sha256, kb, tuple(json.loads(strategies)), tuple(json.loads(metrics)),
        item_count, json.loads(manifest),
    )
