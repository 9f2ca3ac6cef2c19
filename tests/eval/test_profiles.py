"""Profiles: a tuned configuration saved by name answers `ask`, `compare` and `eval` under a label that says it
is tuned, beside the defaults; a missing or broken one is refused with the fix."""

import json

import pytest

from eval.profiles import (
    Configuration, ProfileError, beside_tuned, configured_strategy, display_name, load_profile, save_profile,
)
from lab.ingestion import DEMO_FILE
from tests import commands

QUESTION = "Who directed the film Ed Wood?"


@pytest.fixture
def home(settings):
    """The session's lab home, where the demo knowledge base is."""
    return settings.home


def test_a_profile_keeps_each_strategys_configuration_and_applies_it(settings, tmp_path):
    local = settings.model_copy(update={"home": tmp_path})
    save_profile(tmp_path, "mine", "graph", Configuration({"hops": 1}, {"top_k": 3}), {"trials": 4})
    save_profile(tmp_path, "mine", "traditional", Configuration({}, {"answer_mode": "generate"}), {"trials": 2})

    graph, graph_settings = configured_strategy("graph:mine", local)
    plain, plain_settings = configured_strategy("graph", local)

    assert set(load_profile(tmp_path, "mine").strategies) == {"graph", "traditional"}
    assert (graph.params.hops, graph_settings.top_k, graph_settings.answer_mode) == (1, 3, local.answer_mode)
    assert (plain.params.hops, plain_settings.top_k) == (2, local.top_k)
    assert beside_tuned(["graph", "hyde"], tmp_path, "mine") == ["graph", "graph:mine", "hyde"]
    assert display_name("graph:mine") == "graph (tuned: mine)" and display_name("graph") == "graph"


def test_a_missing_unusable_or_broken_profile_is_refused_with_the_fix(settings, tmp_path):
    local = settings.model_copy(update={"home": tmp_path})
    with pytest.raises(ProfileError, match="No profile 'absent'.*raglab tune"):
        configured_strategy("graph:absent", local)
    with pytest.raises(ProfileError, match="not usable"):
        save_profile(tmp_path, "../escape", "graph", Configuration(), {})
    save_profile(tmp_path, "mine", "graph", Configuration(), {})
    with pytest.raises(ProfileError, match="no configuration for 'hyde'.*--strategies hyde"):
        configured_strategy("hyde:mine", local)
    (tmp_path / "profiles" / "odd.json").write_text(json.dumps({"strategies": {"graph": {"settings": {"backend": "x"}}}}))
    with pytest.raises(ProfileError, match="may set only top_k, answer_mode"):
        load_profile(tmp_path, "odd")


@pytest.mark.slow
def test_a_profile_round_trips_into_ask_compare_and_eval_and_changes_what_they_do(home, demo_kb, tmp_path):
    save_profile(home, "one-passage", "traditional", Configuration({}, {"top_k": 1}), {"trials": 1})
    ask = ["ask", QUESTION, "--kb", "demo", "--strategy", "traditional", "--json"]

    defaults = commands.raglab(*ask, home=home)
    tuned = commands.raglab(*ask, "--profile", "one-passage", home=home)
    compared = commands.raglab("compare", QUESTION, "--kb", "demo", "--strategies", "traditional,no-retrieval",
                               "--profile", "one-passage", "--json", home=home)
    two_questions = tmp_path / "two.json"
    two_questions.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:2]))
    evaluated = commands.raglab("eval", "--qa", str(two_questions), "--kb", "demo", "--strategies", "traditional",
                                "--metrics", "retrieval", "--profile", "one-passage", "--json", home=home)

    assert defaults.returncode == tuned.returncode == compared.returncode == 0, defaults.stderr + tuned.stderr
    default_answer, tuned_answer = json.loads(defaults.stdout), json.loads(tuned.stdout)
    assert len(default_answer["contexts"]) == 5 and len(tuned_answer["contexts"]) == 1
    assert tuned_answer["strategy"] == "traditional (tuned: one-passage)"
    assert [a["strategy"] for a in json.loads(compared.stdout)] == [
        "traditional", "traditional (tuned: one-passage)", "no-retrieval"]
    assert evaluated.returncode == 0, evaluated.stderr
    assert list(json.loads(evaluated.stdout)["strategies"]) == ["traditional:one-passage"]


def test_ask_with_an_unknown_profile_names_the_saved_ones_and_changes_nothing(home, demo_kb):
    ran = commands.raglab("ask", QUESTION, "--kb", "demo", "--profile", "nowhere", home=home)
    assert ran.returncode != 0 and "No profile 'nowhere'" in ran.stderr and "raglab tune" in ran.stderr
