"""Crash safety, shown by killing real `raglab` processes with SIGKILL: an ingest or an eval killed mid-run
resumes to the state an uninterrupted run reaches, and two writers at once never corrupt a store.
What runs after the kill, to resume or to compare with, runs in process (tests/commands.py)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from eval.run_store import RunStore, run_store_path
from lab.core import LabSettings
from lab.ingestion import DEMO_FILE
from lab.kb import KnowledgeBase
from tests import commands
from tests.conftest import SERVED_MODEL, build_kb
from tests.servers import FaultyProxy

RAGLAB = [sys.executable, "-m", "app.cli"]


def raglab(*args: str, home: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*RAGLAB, *args], env={**os.environ, "RAGLAB_HOME": str(home), **env},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finished(process: subprocess.Popen, timeout: float = 900) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def kill_when(process: subprocess.Popen, condition: Callable[[], bool], timeout: float = 300) -> None:
    """SIGKILL `process` as soon as `condition` holds; fail if it ends or times out first."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, f"it finished before it could be killed: {process.communicate()[1][-2000:]}"
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def count(database: Path, query: str, *args: object) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database, timeout=30) as db:
        try:
            return db.execute(query, args).fetchone()[0]
        except sqlite3.OperationalError:  # the table is not created yet
            return 0


@pytest.fixture(scope="module")
def paragraph_corpus(tmp_path_factory) -> Path:
    """The demo's paragraphs, one Markdown file each: enough files for an ingest to be killed between batches."""
    folder = tmp_path_factory.mktemp("paragraphs")
    seen = set()
    for record in json.loads(DEMO_FILE.read_text()):
        for title, sentences in record["context"]:
            if title not in seen:
                seen.add(title)
                (folder / f"{len(seen):03d}.md").write_text(f"# {title}\n\n{' '.join(sentences)}\n")
    return folder


def kb_state(home: Path, name: str) -> dict[str, int]:
    kb = KnowledgeBase.open(home, name)
    sizes = kb.index_sizes()
    kb.close()
    database = home / "kbs" / name / "kb.sqlite"
    return {**sizes, "graph": count(database, "SELECT COUNT(*) FROM graph_chunks"),
            "documents": count(database, "SELECT COUNT(*) FROM documents")}


def chunk_texts(home: Path, name: str) -> list[str]:
    kb = KnowledgeBase.open(home, name)
    texts = sorted(kb.store.all_chunk_ids_and_texts()[1])
    kb.close()
    return texts


def test_an_ingest_killed_between_batches_resumes_and_every_index_agrees(paragraph_corpus, tmp_path, embedder):
    home = tmp_path / "home"
    chunks = home / "kbs" / "killed" / "kb.sqlite"
    first = raglab("ingest", str(paragraph_corpus), "--kb", "killed", home=home, RAGLAB_INGEST_BATCH_CHUNKS="8")
    kill_when(first, lambda: count(chunks, "SELECT COUNT(*) FROM chunks") > 0)
    committed_before = count(chunks, "SELECT COUNT(*) FROM chunks")

    resumed = commands.raglab("ingest", str(paragraph_corpus), "--kb", "killed", home=home)

    assert resumed.returncode == 0, resumed.stderr
    reference = build_kb(LabSettings(home=tmp_path / "reference"), embedder, "whole", [paragraph_corpus])
    reference.close()
    state = kb_state(home, "killed")
    assert state["store"] == state["dense"] == state["bm25"] == state["graph"] > committed_before
    assert chunk_texts(home, "killed") == chunk_texts(tmp_path / "reference", "whole")
    assert state["documents"] == len(list(paragraph_corpus.glob("*.md")))
    kb = KnowledgeBase.open(home, "killed")
    found = kb.dense_search(embedder.embed("Who directed the film Ed Wood?"), 3)
    kb.close()
    assert found and any("Ed Wood" in passage.doc_title for passage in found)


def test_a_second_ingest_into_the_same_kb_is_refused_while_the_first_runs_and_the_first_completes(
    paragraph_corpus, tmp_path
):
    home = tmp_path / "home"
    chunks = home / "kbs" / "shared" / "kb.sqlite"
    first = raglab("ingest", str(paragraph_corpus), "--kb", "shared", home=home, RAGLAB_INGEST_BATCH_CHUNKS="4")
    deadline = time.monotonic() + 300
    while count(chunks, "SELECT COUNT(*) FROM chunks") == 0:
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)

    code, _, err = finished(raglab("ingest", str(paragraph_corpus), "--kb", "shared", home=home))

    assert code != 0 and "Another ingest into 'shared' is running (pid" in err and "wait for it to finish" in err
    assert finished(first)[0] == 0
    state = kb_state(home, "shared")
    assert state["store"] == state["dense"] == state["bm25"] == state["graph"] > 0


def eval_args(qa: Path, run_id: str) -> list[str]:
    return ["eval", "--qa", str(qa), "--kb", "demo", "--strategies", "traditional,no-retrieval",
            "--metrics", "answer,retrieval", "--run-id", run_id]


@pytest.fixture
def four_questions(tmp_path) -> Path:
    path = tmp_path / "four.json"
    path.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:4]))
    return path


def stored(home: Path, run_id: str) -> dict[tuple[str, str], tuple[str, dict]]:
    store = RunStore(run_store_path(home))
    results = {(r.item_id, r.strategy): (r.answer, {m: v.value for m, v in r.metrics.items()})
               for r in store.results(run_id)}
    store.close()
    return results


def test_an_eval_killed_mid_run_resumes_to_every_item_once_with_the_results_of_an_uninterrupted_run(
    settings, demo_kb, four_questions
):
    home = settings.home
    store = run_store_path(home)
    first = raglab(*eval_args(four_questions, "killed-eval"), home=home)
    kill_when(first, lambda: count(store, "SELECT COUNT(*) FROM results WHERE run_id = ?", "killed-eval") >= 2)
    stored_before = count(store, "SELECT COUNT(*) FROM results WHERE run_id = ?", "killed-eval")

    resumed = commands.raglab(*eval_args(four_questions, "killed-eval"), home=home)
    whole = commands.raglab(*eval_args(four_questions, "whole-eval"), home=home)

    assert resumed.returncode == 0 and whole.returncode == 0, resumed.stderr + whole.stderr
    assert 2 <= stored_before < 8
    assert count(store, "SELECT COUNT(*) FROM results WHERE run_id = ?", "killed-eval") == 8
    assert stored(home, "killed-eval") == stored(home, "whole-eval")


def test_two_evals_share_one_store_and_a_second_process_on_the_same_run_is_refused(
    settings, demo_kb, four_questions, llama_server
):
    home = settings.home
    stalling = FaultyProxy(llama_server.url)
    served = {"RAGLAB_BACKEND": "openai", "RAGLAB_GENERATOR": SERVED_MODEL}
    store = run_store_path(home)
    try:
        one_at_a_time = ["--concurrency", "1"]  # so holding the server stops it mid-run
        first = raglab(*eval_args(four_questions, "twin-a"), *one_at_a_time, home=home,
                       RAGLAB_GENERATOR_URL=stalling.url, **served)
        second = raglab(*eval_args(four_questions, "twin-b"), home=home, RAGLAB_GENERATOR_URL=llama_server.url, **served)
        deadline = time.monotonic() + 300
        while count(store, "SELECT COUNT(*) FROM results WHERE run_id = ?", "twin-a") == 0:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        stalling.holding.set()  # the first eval now waits on its server, mid-run, holding its run

        same_run = finished(raglab(*eval_args(four_questions, "twin-a"), home=home,
                                   RAGLAB_GENERATOR_URL=llama_server.url, **served))
        stalling.holding.clear()
        outcomes = finished(first)[0], finished(second)[0]
    finally:
        stalling.holding.clear()
        stalling.close()

    assert same_run[0] != 0 and "Run 'twin-a' is being evaluated by another process (pid" in same_run[2]
    assert outcomes == (0, 0)
    for run_id in ("twin-a", "twin-b"):
        results = stored(home, run_id)
        assert len(results) == 8 and all(answer for answer, _ in results.values())
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
