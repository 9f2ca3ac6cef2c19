"""KV-cache bytes: measured on the real cache must match what the model config predicts."""

import pytest

from lab.llm.kv_cache import theoretical_kv_bytes


@pytest.mark.parametrize("words", [30, 1500])
def test_measured_kv_bytes_equal_the_theoretical_figure_within_one_percent(transformers_generator, words):
    generator = transformers_generator
    prompt = "The river flows past the old mill. " * (words // 7) + "Question: where does the river flow?\nAnswer:"
    generation = generator.generate(prompt, stop=("\n",), max_new_tokens=8)
    assert generation.kv_bytes > 0
    assert abs(generation.kv_bytes - generation.kv_bytes_theory) <= 0.01 * generation.kv_bytes_theory


def test_sliding_window_layers_keep_at_most_window_minus_one_tokens(transformers_generator):
    """Gemma 3 270M: 3 global layers hold every token, 15 sliding layers hold the last 511."""
    config = transformers_generator.model.config
    assert config.sliding_window == 512 and config.layer_types.count("sliding_attention") == 15
    per_token_per_layer = 2 * config.num_key_value_heads * config.head_dim * 4
    expected = (3 * 1550 + 15 * 511) * per_token_per_layer
    assert theoretical_kv_bytes(config, cached_tokens=1550, bytes_per_element=4) == expected
    naive = 18 * 1550 * per_token_per_layer
    assert naive / expected > 2.2


def test_the_last_generated_token_is_not_cached(transformers_generator):
    generation = transformers_generator.generate("Paris is the capital of", stop=(), max_new_tokens=4)
    config = transformers_generator.model.config
    per_token = 18 * 2 * config.num_key_value_heads * config.head_dim * 4
    assert generation.kv_bytes == (generation.prompt_tokens + generation.new_tokens - 1) * per_token


@pytest.mark.parametrize("words", [30, 1500])
def test_llama_cpp_reports_its_own_kv_bytes_beside_the_gguf_theory_within_one_percent(generator, words):
    """llama.cpp keeps a full-size cache on sliding layers too, so the plain formula is its theory."""
    prompt = "The river flows past the old mill. " * (words // 7) + "Question: where does the river flow?\nAnswer:"
    generation = generator.generate(prompt, stop=("\n",), max_new_tokens=8)
    assert generator.capabilities.measures_kv and generation.kv_bytes > 0
    assert abs(generation.kv_bytes - generation.kv_bytes_theory) <= 0.01 * generation.kv_bytes_theory
