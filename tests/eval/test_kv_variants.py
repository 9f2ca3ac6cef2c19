"""An evaluation compares KV-cache modes as it compares strategies: `NAME@MODE` is one more column of the run."""

import json

import pytest

from eval.evaluation import RunMismatch, evaluate
from eval.qa_sets import load_qa_set
from eval.run_analysis import analyze_run
from eval.run_store import RunStore
from lab.context import LabContext
from lab.ingestion import DEMO_FILE


@pytest.fixture
def two_questions(tmp_path):
    path = tmp_path / "two.json"
    path.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:2]))
    return load_qa_set(path)


@pytest.mark.slow
def test_a_kv_mode_variant_is_stored_scored_and_analysed_beside_its_strategy(
    settings, embedder, transformers_generator, demo_kb, two_questions, tmp_path, extractor
):
    ctx = LabContext(settings.model_copy(update={"answer_mode": "generate"}), transformers_generator, embedder, demo_kb, extractor)
    store = RunStore(tmp_path / "runs.sqlite")
    variants = ["traditional", "traditional@quantized-int4"]
    outcome = evaluate(ctx, two_questions, variants, ["answer", "retrieval"], store)
    analysis = analyze_run(store, outcome.run_id)
    store.close()
    assert outcome.errors == 0 and analysis.strategies == variants
    by_variant = {name: [r for r in analysis.results if r.strategy == name] for name in variants}
    assert all(len(results) == 2 for results in by_variant.values())
    assert analysis.intervals["traditional@quantized-int4"]["answer_f1"].n == 2
    peak = {name: max(r.trace["kv_bytes_peak"] for r in results) for name, results in by_variant.items()}
    assert peak["traditional@quantized-int4"] < peak["traditional"] / 3
    assert {r.trace["generator"]["kv_mode"] for r in by_variant["traditional@quantized-int4"]} == {"quantized-int4"}


def test_a_kv_mode_variant_on_a_backend_that_keeps_its_own_cache_is_refused_before_any_answer(
    demo_ctx, two_questions, tmp_path
):
    store = RunStore(tmp_path / "runs.sqlite")
    with pytest.raises(RunMismatch, match="needs the transformers backend"):
        evaluate(demo_ctx, two_questions, ["traditional@fp8"], ["answer"], store)
    store.close()
