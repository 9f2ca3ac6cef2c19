"""The in-process backends: llama.cpp on the embedded GGUF, held against transformers on the same weights."""

from dataclasses import replace

from lab.llm import Generator
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


def test_llama_cpp_generation_stops_at_the_stop_string_and_counts_its_tokens(generator):
    generation = generator.generate("Paris is the capital of France. Rome is the capital of", stop=("\n", "."))
    assert generation.text and "\n" not in generation.text and "." not in generation.text
    assert generation.prompt_tokens == generator.count_tokens("Paris is the capital of France. Rome is the capital of") + 1
    assert 0 < generation.new_tokens <= generator.max_new_tokens


def test_on_five_demo_questions_llama_cpp_retrieves_the_same_and_mostly_answers_the_same(
    demo_ctx, transformers_generator, demo_questions
):
    strategy = get_strategy("traditional")
    through_transformers = replace(demo_ctx, generator=transformers_generator)
    agree = 0
    for item in demo_questions[:5]:
        quantized = strategy.answer(item["question"], demo_ctx)
        full_precision = strategy.answer(item["question"], through_transformers)
        assert [p.chunk_id for p in quantized.passages] == [p.chunk_id for p in full_precision.passages]
        agree += quantized.text.lower() == full_precision.text.lower()
    print(f"llama-cpp and transformers gave the same answer text on {agree} of 5 demo questions")
    assert agree >= 3


def test_llama_cpp_scores_many_continuations_side_by_side_as_it_scores_each_alone(generator):
    """Forty answer candidates share one evaluation of the prompt; each is its own sequence on its cache."""
    continuations = [f" {word}\n" for word in ("Poland", "France", "Warsaw", "physicist", "the Sorbonne", "1867")] * 7
    together = generator.score(PROMPT, continuations)
    alone = [generator.score(PROMPT, [continuation])[0] for continuation in continuations]
    assert together.prompt_tokens == generator.count_tokens(PROMPT) + 1
    assert max(abs(t - a) for t, a in zip(together, alone)) < 0.6
    assert together.index(max(together)) % 6 == alone.index(max(alone)) % 6
