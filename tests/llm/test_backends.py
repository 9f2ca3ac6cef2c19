"""The in-process backends: llama.cpp on the embedded GGUF, held against transformers on the same weights."""

from dataclasses import replace

import pytest

from lab.core import usable_cores
from lab.core.text import token_overlap
from lab.llm import Generator, load_generator
from strategies import get_strategy

PROMPT = (
    "Passage 1 (Marie Curie): Marie Curie was a Polish-born physicist.\n"
    "Question: Which country was Marie Curie born in?\nAnswer:"
)
CANDIDATES = [" Poland", " France", " the United Kingdom"]


def test_both_backends_declare_what_they_can_do(generator: Generator, transformers_generator: Generator):
    assert generator.backend == "llama-cpp" and transformers_generator.backend == "transformers"
    for backend in (generator, transformers_generator):
        assert backend.capabilities.can_score and not backend.capabilities.chat_only
        assert backend.describe()["model"] == backend.model_id and "key" not in str(backend.describe()).lower()


def test_llama_cpp_scores_rank_candidates_as_transformers_does(generator, transformers_generator):
    quantized = generator.score(PROMPT, CANDIDATES)
    full_precision = transformers_generator.score(PROMPT, CANDIDATES)
    assert quantized.path == full_precision.path == "likelihood"
    assert sorted(CANDIDATES, key=lambda c: -quantized[CANDIDATES.index(c)]) == sorted(
        CANDIDATES, key=lambda c: -full_precision[CANDIDATES.index(c)]
    )
    assert all(abs(q - f) < 1.0 for q, f in zip(quantized, full_precision))


def test_llama_cpp_gives_the_same_scores_whatever_ran_before(generator):
    """Cached prefixes are reused only where a fresh evaluation would have computed them the same way."""
    first = generator.score(PROMPT, CANDIDATES)
    generator.generate("An unrelated prompt about rivers and mills.\nQuestion: what flows?\nAnswer:")
    generator.score(PROMPT[:40], [" yes"])
    assert generator.score(PROMPT, CANDIDATES) == first


def test_llama_cpp_computes_on_the_cores_it_may_use_and_one_core_fewer_scores_the_same(settings, placement, generator):
    """Thread count only splits the work: the `generator_threads` setting trades speed, never answers."""
    usable = usable_cores()
    assert generator.llama.context_params.n_threads == generator.llama.context_params.n_threads_batch == usable
    fewer = load_generator(settings.model_copy(update={"generator_threads": max(1, usable - 1)}), placement)
    assert fewer.llama.context_params.n_threads == max(1, usable - 1)
    assert fewer.score(PROMPT, CANDIDATES) == generator.score(PROMPT, CANDIDATES)
    assert fewer.generate(PROMPT).text == generator.generate(PROMPT).text


def test_llama_cpp_generation_stops_at_the_stop_string_and_counts_its_tokens(generator):
    generation = generator.generate("Paris is the capital of France. Rome is the capital of", stop=("\n", "."))
    assert generation.text and "\n" not in generation.text and "." not in generation.text
    assert generation.prompt_tokens == generator.count_tokens("Paris is the capital of France. Rome is the capital of") + 1
    assert 0 < generation.new_tokens <= generator.max_new_tokens


@pytest.mark.slow
def test_on_eight_demo_questions_llama_cpp_retrieves_the_same_and_mostly_writes_the_same_answer(
    demo_ctx, transformers_generator, demo_questions
):
    """Written answers compare the two numerics token by token (selection's scores are compared above); Q4
    weights may phrase a long answer differently, so half must match exactly and most tokens overall."""
    strategy = get_strategy("traditional")
    writing = replace(demo_ctx, settings=demo_ctx.settings.model_copy(update={"answer_mode": "generate"}))
    through_transformers = replace(writing, generator=transformers_generator)
    overlaps = []
    for item in demo_questions[:8]:
        quantized = strategy.answer(item["question"], writing)
        full_precision = strategy.answer(item["question"], through_transformers)
        assert [p.chunk_id for p in quantized.passages] == [p.chunk_id for p in full_precision.passages]
        overlaps.append(token_overlap(quantized.text, full_precision.text))
    same = sum(overlap == 1.0 for overlap in overlaps)
    print(f"llama-cpp and transformers wrote the same answer on {same} of 8 demo questions; token F1 {overlaps}")
    assert same >= 4 and sum(overlaps) / len(overlaps) >= 0.6


@pytest.mark.slow
def test_llama_cpp_scores_many_continuations_side_by_side_as_it_scores_each_alone(generator):
    """Forty answer candidates share one evaluation of the prompt; each is its own sequence on its cache."""
    continuations = [f" {word}\n" for word in ("Poland", "France", "Warsaw", "physicist", "the Sorbonne", "1867")] * 7
    together = generator.score(PROMPT, continuations)
    alone = [generator.score(PROMPT, [continuation])[0] for continuation in continuations]
    assert together.prompt_tokens == generator.count_tokens(PROMPT) + 1
    assert max(abs(t - a) for t, a in zip(together, alone)) < 0.6
    assert together.index(max(together)) % 6 == alone.index(max(alone)) % 6
