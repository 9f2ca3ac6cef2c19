"""The `openai` backend against a real llama.cpp server on 127.0.0.1: connecting, generating, deciding, failing well."""

import pytest

from lab.core import ModelLoadError, resolve_placement
from lab.llm import GeneratorUnavailable, load_generator
from tests.conftest import ECHO_MODEL, server_settings
from tests.servers import FaultyProxy, free_port

PROMPT = (
    "Passage 1 (Marie Curie): Marie Curie was a Polish-born physicist.\n"
    "Question: Which country was Marie Curie born in?\nAnswer:"
)


def connect(settings, url: str, **changes):
    chosen = server_settings(settings, url, **changes)
    return load_generator(chosen, resolve_placement(chosen))


def test_the_server_generates_what_the_same_weights_generate_in_process(settings, llama_server, generator):
    served = connect(settings, llama_server.url)
    assert served.generate(PROMPT).text == generator.generate(PROMPT).text
    described = served.describe()
    assert described["backend"] == "openai" and described["url"] == llama_server.url
    assert described["model"] == "gemma-3-270m"


def test_without_fast_prompt_logprobs_a_decision_is_a_constrained_choice_recorded_as_such(settings, llama_server):
    served = connect(settings, llama_server.url)
    assert not served.capabilities.can_score and "constrained choice" in served.describe()["scoring"]
    scores = served.score(PROMPT, [" Poland", " France"])
    assert scores.path == "grammar" and sorted(scores) == [-20.0, 0.0]
    assert served.score(PROMPT, [" Poland"]).path == "unscored"


def test_echoed_logprobs_give_the_in_process_likelihoods(settings, llama_server, generator):
    """Forced on with `generator_scoring = echo`: slow on this server, exact all the same."""
    served = connect(settings, llama_server.url, generator=ECHO_MODEL, generator_scoring="echo")
    assert served.capabilities.can_score
    echoed = served.score(PROMPT, [" Poland", " France"])
    in_process = generator.score(PROMPT, [" Poland", " France"])
    assert echoed.path == "likelihood"
    assert all(abs(e - i) < 0.05 for e, i in zip(echoed, in_process))


def test_a_wrong_url_names_the_url_and_the_fix(settings):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelLoadError, match=rf"Cannot reach a generator server at {url}.*generator_url"):
        connect(settings, url)


def test_an_unknown_model_is_refused_with_the_models_the_server_serves(settings, llama_server):
    with pytest.raises(ModelLoadError, match=r"does not serve model 'llama-9000'; it serves: gemma-3-270m, gemma-3-270m-echo"):
        connect(settings, llama_server.url, generator="llama-9000")


def test_a_5xx_after_the_retries_names_the_url_and_the_status(settings, llama_server):
    proxy = FaultyProxy(llama_server.url)
    try:
        served = connect(settings, proxy.url)
        proxy.failing.set()
        with pytest.raises(GeneratorUnavailable, match=rf"{proxy.url} answered HTTP 503 .*service unavailable"):
            served.generate(PROMPT)
        assert proxy.refused == 2, "one request and one retry (generator_retries = 1)"
        proxy.failing.clear()
        assert served.generate(PROMPT).text
    finally:
        proxy.close()
