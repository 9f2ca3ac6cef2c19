"""Evaluation in process, on the real models and a real SQLite run store: QA files, failures, judges."""

import dataclasses
import json
import logging
import socket
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

import strategies
from eval.evaluation import evaluate
from eval.qa_sets import QASetError, load_qa_set
from eval.run_analysis import analyze_run
from eval.run_store import RunStore
from lab.context import LabContext
from lab.ingestion import DEMO_FILE


@pytest.fixture
def store(tmp_path) -> RunStore:
    store = RunStore(tmp_path / "runs.sqlite")
    yield store
    store.close()


@pytest.fixture
def two_questions(tmp_path) -> Path:
    path = tmp_path / "two.json"
    path.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:2]))
    return path


def test_a_qa_file_missing_a_column_names_the_column_and_the_accepted_formats(tmp_path):
    (tmp_path / "qa.csv").write_text("question,answer\nWho directed Ed Wood?,Tim Burton\n")
    with pytest.raises(QASetError, match=r"record 1 has no 'reference' column\. Accepted: HotpotQA JSON .* JSONL/CSV"):
        load_qa_set(tmp_path / "qa.csv")
    (tmp_path / "hotpot.json").write_text(json.dumps([{"question": "Who?", "answer": "Me"}]))
    with pytest.raises(QASetError, match="no 'supporting_facts' column"):
        load_qa_set(tmp_path / "hotpot.json")


def test_a_jsonl_qa_set_reads_lists_and_a_csv_reads_pipe_separated_titles(tmp_path):
    (tmp_path / "qa.jsonl").write_text(
        json.dumps({"question": "Q1?", "reference": "A1", "reference_contexts": ["c1"], "reference_doc_titles": ["T1"]}) + "\n"
    )
    (tmp_path / "qa.csv").write_text('question,reference,reference_doc_titles\nQ2?,A2,"T2|T3"\n')
    assert load_qa_set(tmp_path / "qa.jsonl").items[0].reference_contexts == ("c1",)
    assert load_qa_set(tmp_path / "qa.csv").items[0].reference_doc_titles == ("T2", "T3")


def test_hotpotqa_gold_documents_are_the_supporting_fact_titles():
    item = load_qa_set(DEMO_FILE).items[0]
    assert item.reference_doc_titles == ("Scott Derrickson", "Ed Wood")
    assert item.reference_contexts[0].startswith("Scott Derrickson (born July 16, 1966)")


class Exploding:
    """A strategy whose index is broken: every question raises."""

    name = "exploding"
    description = __doc__
    stages = ("retrieve",)

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def __init__(self, params=None):
        self.params = params

    def answer(self, question, ctx):
        raise RuntimeError("index file is corrupt")


def test_a_strategy_that_raises_is_stored_with_its_error_and_counted(monkeypatch, demo_ctx, store, two_questions):
    monkeypatch.setattr(strategies, "BUILT_IN", (*strategies.BUILT_IN, Exploding))
    outcome = evaluate(demo_ctx, load_qa_set(two_questions), ["exploding", "no-retrieval"], ["answer_f1"], store)
    analysis = analyze_run(store, outcome.run_id)
    assert outcome.errors == 2 and analysis.errors == {"exploding": 2, "no-retrieval": 0}
    assert all("index file is corrupt" in r.error for r in analysis.results if r.strategy == "exploding")
    assert analysis.intervals["no-retrieval"]["answer_f1"].n == 2 and analysis.intervals["exploding"]["answer_f1"].n == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_judge_endpoint_that_is_down_is_reported_once_and_llm_metrics_skipped(demo_ctx, store, two_questions, caplog):
    settings = demo_ctx.settings.model_copy(update={"judge_url": f"http://127.0.0.1:{free_port()}/v1", "judge_model": "m"})
    ctx = dataclasses.replace(demo_ctx, settings=settings)
    with caplog.at_level(logging.WARNING):
        outcome = evaluate(ctx, load_qa_set(two_questions), ["no-retrieval"], ["answer_f1", "faithfulness"], store)
    assert "not answering" in outcome.judge_problem
    assert len([r for r in caplog.records if "not answering" in r.getMessage()]) == 1
    assert [kind for _, kind, _ in store.events(outcome.run_id)] == ["judge_unavailable"]
    results = store.results(outcome.run_id)
    assert all(r.metrics["faithfulness"].reason == "skipped: judge endpoint down" for r in results)
    assert all(r.metrics["answer_f1"].value is not None for r in results)


@pytest.mark.slow
def test_the_embedded_base_model_judge_scores_or_records_nan_with_a_reason(demo_ctx, store, two_questions):
    settings = demo_ctx.settings.model_copy(update={"judge_max_new_tokens": 24, "judge_timeout_s": 90})
    ctx: LabContext = dataclasses.replace(demo_ctx, settings=settings)
    qa_set = load_qa_set(two_questions, limit=1)
    outcome = evaluate(ctx, qa_set, ["traditional"], ["faithfulness", "answer_em"], store)
    value = store.results(outcome.run_id)[0].metrics["faithfulness"]
    assert (value.value is not None and 0.0 <= value.value <= 1.0) or value.reason
    assert store.results(outcome.run_id)[0].metrics["answer_em"].value in (0.0, 1.0)
