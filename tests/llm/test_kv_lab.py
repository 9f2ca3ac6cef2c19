"""The KV-cache lab: cache modes measured on live caches agree with theory, and the experiments say what they claim."""

import json

import pytest

from app.kv_lab import QUICK_PLAN, run_kv_lab
from lab.llm import KV_MODES, RecordingGenerator, TransformersGenerator, model_shapes, replay_with_prefix_reuse
from lab.llm.backend import shared_prefix_length
from lab.llm.kv_experiments import cache_on_off, decode, prompt_of_length
from lab.llm.kv_modes import new_cache
from tests.commands import raglab

ROW_FIELDS = {"experiment", "mode", "context_tokens", "new_tokens", "kv_bytes_measured", "kv_bytes_theory", "ms",
              "tokens_per_s", "agreement"}


def in_mode(generator: TransformersGenerator, mode: str) -> TransformersGenerator:
    return TransformersGenerator(generator.model, generator.tokenizer, generator.model_id, 8, kv_mode=mode)


@pytest.mark.parametrize("mode", KV_MODES)
@pytest.mark.parametrize("words", [30, 1500])
def test_every_cache_mode_measures_what_theory_predicts_within_one_percent(transformers_generator, mode, words):
    """1,500 words is past Gemma 3's 512-token window, so the sliding layers' share of the theory is exercised too."""
    prompt = "The river flows past the old mill. " * (words // 7) + "Question: where does the river flow?\nAnswer:"
    generation = in_mode(transformers_generator, mode).generate(prompt, stop=(), max_new_tokens=8)
    assert generation.kv_bytes > 0
    assert abs(generation.kv_bytes - generation.kv_bytes_theory) <= 0.01 * generation.kv_bytes_theory


@pytest.mark.slow
def test_a_quantized_cache_holds_at_most_a_third_of_dynamic_fp32_at_a_long_context(transformers_generator):
    ids = transformers_generator.tokenizer(prompt_of_length(transformers_generator, 1800)).input_ids
    config = transformers_generator.model.config
    dynamic = decode(transformers_generator, ids, 2, new_cache("dynamic", config, 0)).step_kv_bytes[-1]
    for mode in ("quantized-int4", "quantized-int2"):
        quantized = decode(transformers_generator, ids, 2, new_cache(mode, config, 0)).step_kv_bytes[-1]
        assert quantized <= dynamic / 3, mode


@pytest.mark.slow
def test_the_cache_changes_the_time_per_token_not_the_tokens(transformers_generator):
    prompt_ids = transformers_generator.tokenizer("The ferry to the island leaves the harbour at").input_ids
    cached = decode(transformers_generator, prompt_ids, 12, new_cache("dynamic", transformers_generator.model.config, 0))
    uncached = decode(transformers_generator, prompt_ids, 12, None)
    assert cached.token_ids == uncached.token_ids
    rows, per_token = cache_on_off(transformers_generator, prompt_of_length(transformers_generator, 200), [4, 24])
    longest = [row for row in rows if row.mode == "cache on"][-1]
    assert longest.detail["speedup"] > 1
    assert longest.kv_bytes_measured == longest.kv_bytes_theory
    assert len(per_token["cache off"]) == 24 and per_token["cache off"][-1] > per_token["cache on"][-1]


@pytest.mark.slow
def test_replaying_a_strategy_counts_the_prompt_it_shares_and_times_reading_it_again(demo_ctx, transformers_generator):
    from dataclasses import replace

    from strategies import get_strategy

    recorder = RecordingGenerator(demo_ctx.generator)
    get_strategy("self-rag").answer("Which city was the director of the film Ed Wood born in?", replace(demo_ctx, generator=recorder))
    assert len(recorder.calls) >= 2
    reuse = replay_with_prefix_reuse(transformers_generator, recorder.calls)
    assert reuse.calls == len(recorder.calls)
    assert 0 < reuse.shared_tokens < reuse.prompt_tokens
    assert reuse.cold_ms > 0 and reuse.warm_ms > 0
    assert shared_prefix_length([1, 2, 3, 9], [1, 2, 3, 4, 5]) == 3


def test_the_theory_calculator_puts_the_seeds_two_gigabytes_at_four_llama_2_sequences():
    llama2, llama3 = model_shapes()["llama-2-7b"], model_shapes()["llama-3-8b"]
    assert llama2.cache_bytes(1000, "fp16") == 2 * 32 * 32 * 128 * 2 * 1000
    assert llama2.cache_bytes(1000, "fp16", batch=4) == pytest.approx(2.1e9, rel=0.01)
    assert llama3.cache_bytes(1000, "fp16") * 4 == llama2.cache_bytes(1000, "fp16")
    assert llama2.longest_context(16 * 2**30, "fp16") == 4096
    assert llama2.longest_context(14 * 2**30, "fp16") < 4096


def test_the_theory_calculator_agrees_with_the_embedded_models_own_config(transformers_generator):
    from lab.llm.kv_cache import theoretical_kv_bytes

    gemma = model_shapes()["gemma-3-270m"]
    from_config = theoretical_kv_bytes(transformers_generator.model.config, 1500, 2)
    assert gemma.cache_bytes(1500, "fp16") == pytest.approx(from_config, rel=0.01)


@pytest.mark.slow
def test_the_lab_runs_all_five_experiments_on_real_prompts(demo_ctx, transformers_generator, demo_questions):
    report = run_kv_lab(demo_ctx, transformers_generator, [q["question"] for q in demo_questions[:2]], QUICK_PLAN)
    experiments = {row.experiment for row in report.rows}
    assert experiments == {"cache_on_off", "memory", "modes", "theory", "prefix_reuse"}
    backends = {row.label for row in report.experiment("memory")}
    assert {"transformers", "llama-cpp"} <= backends
    for row in report.rows:
        if row.experiment in ("memory", "modes") and row.kv_bytes_measured and row.label != "llama-cpp":
            assert abs(row.kv_bytes_measured - row.kv_bytes_theory) <= 0.01 * row.kv_bytes_theory
    dynamic = next(r for r in report.experiment("modes") if r.mode == "dynamic" and r.label != "memory")
    assert dynamic.agreement == 1.0 and dynamic.answer_agreement == 1.0
    assert len(report.findings) >= 5


@pytest.mark.slow
def test_raglab_kv_json_prints_every_row_with_its_fields(settings, demo_kb):
    result = raglab("kv", "--quick", "--json", home=settings.home)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert all(ROW_FIELDS <= set(row) for row in rows)
    on_off = [row for row in rows if row["experiment"] == "cache_on_off" and row["mode"] == "cache on"]
    assert max(on_off, key=lambda row: row["new_tokens"])["detail"]["speedup"] > 1
    quantized = [r for r in rows if r["experiment"] == "modes" and r["label"] == "memory" and r["mode"].startswith("quantized")]
    dynamic = next(r for r in rows if r["experiment"] == "modes" and r["label"] == "memory" and r["mode"] == "dynamic")
    assert quantized and all(r["kv_bytes_measured"] <= dynamic["kv_bytes_measured"] / 3 for r in quantized)


def test_raglab_kv_names_the_missing_questions_for_a_corpus_without_any(settings, demo_kb):
    result = raglab("kv", "--quick", "--kb", "not-a-demo", home=settings.home)
    assert result.returncode == 2
    assert "--qa FILE" in result.stderr
