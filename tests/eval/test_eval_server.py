"""Evaluation through a real generator server: concurrent items, a server that fails mid-run, resuming."""

import dataclasses
import json
from pathlib import Path

import pytest

from eval.evaluation import evaluate
from eval.qa_sets import load_qa_set
from eval.run_store import RunStore
from lab.core import resolve_placement
from lab.ingestion import DEMO_FILE
from lab.llm import load_generator
from tests.conftest import server_settings
from tests.servers import FaultyProxy

STRATEGIES = ["traditional", "hyde"]


@pytest.fixture
def three_questions(tmp_path) -> Path:
    path = tmp_path / "three.json"
    path.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:3]))
    return path


def served_ctx(demo_ctx, url: str):
    settings = server_settings(demo_ctx.settings, url)
    return dataclasses.replace(demo_ctx, settings=settings, generator=load_generator(settings, resolve_placement(settings)))


def stored_answers(store: RunStore, run_id: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(r.item_id, r.strategy): (r.answer, r.error) for r in store.results(run_id)}


def test_eight_items_in_flight_give_the_answers_of_a_sequential_run(demo_ctx, llama_server, three_questions, tmp_path):
    ctx = served_ctx(demo_ctx, llama_server.url)
    qa_set = load_qa_set(three_questions)
    answers = {}
    for concurrency in (1, 8):
        store = RunStore(tmp_path / f"runs-{concurrency}.sqlite")
        outcome = evaluate(ctx, qa_set, STRATEGIES, ["answer"], store, concurrency=concurrency)
        assert outcome.computed == 6 and outcome.errors == 0
        answers[concurrency] = stored_answers(store, outcome.run_id)
        manifest = store.run(outcome.run_id).manifest
        assert manifest["generator"]["backend"] == "openai" and manifest["generator"]["url"] == llama_server.url
        store.close()
    assert answers[1] == answers[8]


def test_a_server_failing_mid_run_leaves_failed_items_that_resuming_completes(
    demo_ctx, llama_server, three_questions, tmp_path
):
    proxy = FaultyProxy(llama_server.url)
    store = RunStore(tmp_path / "runs.sqlite")
    try:
        ctx = served_ctx(demo_ctx, proxy.url)
        qa_set = load_qa_set(three_questions)

        def fail_after_the_first_result(fraction: float, message: str) -> None:
            if fraction > 0:
                proxy.failing.set()

        first = evaluate(ctx, qa_set, STRATEGIES, ["answer"], store, on_progress=fail_after_the_first_result)
        assert first.unreachable == 5 and first.computed == 6
        failed = [error for _, error in stored_answers(store, first.run_id).values() if error]
        assert len(failed) == 5 and all(f"{proxy.url} answered HTTP 503" in error for error in failed)

        proxy.failing.clear()
        resumed = evaluate(ctx, qa_set, STRATEGIES, ["answer"], store, run_id=first.run_id)
        assert resumed.already_done == 1 and resumed.computed == 5 and resumed.errors == 0
        results = store.results(first.run_id)
        assert len(results) == 6 and len({(r.item_id, r.strategy) for r in results}) == 6
        assert all(r.error is None for r in results)
    finally:
        store.close()
        proxy.close()
