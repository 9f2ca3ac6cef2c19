"""Tuning: the split holds questions out by construction, the search space is the strategies' declared one,
the same seed gives the same search, and a killed `raglab tune` resumes with each trial stored once."""

import json
from pathlib import Path

import pytest

from eval.held_out import choose_trial, split_qa_set
from eval.qa_sets import QAItem, load_qa_set
from eval.search_space import search_space
from eval.tuning import TuneRequest, TuningError, load_search, tune
from lab.ingestion import DEMO_FILE
from strategies import available_strategies
from tests import commands
from tests.app.test_crash_safety import count, kill_when, raglab

TRIALS = 3


def items_of(kinds: dict[str, int]) -> list[QAItem]:
    return [QAItem(f"{kind}-{n}", f"question {kind} {n}?", "answer", kind=kind)
            for kind, number in kinds.items() for n in range(number)]


@pytest.fixture
def ten_questions(tmp_path) -> Path:
    """The first ten demo questions: seven bridge, three comparison."""
    path = tmp_path / "ten.json"
    path.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:10]))
    return path


def test_the_split_is_seeded_stratified_by_type_and_holds_each_type_out_in_proportion():
    items = items_of({"single": 30, "yes_no": 14, "bridge": 9, "comparison": 2, "": 1})
    split = split_qa_set(items, seed=0)
    tuning, held_out = {i.item_id for i in split.tuning}, {i.item_id for i in split.held_out}

    assert tuning.isdisjoint(held_out) and tuning | held_out == {i.item_id for i in items}
    assert split == split_qa_set(items, seed=0) and split != split_qa_set(items, seed=1)
    held_by_kind = {kind: sum(i.kind == kind for i in split.held_out) for kind in ("single", "yes_no", "bridge", "comparison", "")}
    assert held_by_kind == {"single": 9, "yes_no": 4, "bridge": 3, "comparison": 1, "": 0}
    assert [i.item_id for i in split.tuning] == [i.item_id for i in items if i.item_id in tuning]  # the set's order


def test_the_search_space_is_each_strategys_declared_ranges_less_its_budgets():
    strategies = available_strategies()
    graph = {d.name: d for d in search_space(strategies["graph"])}
    agentic = {d.name for d in search_space(strategies["agentic"])}
    traditional = [d.name for d in search_space(strategies["traditional"])]

    assert (graph["hop_decay"].low, graph["hop_decay"].high) == (0.0, 1.0)
    assert (graph["dense_candidates"].low, graph["dense_candidates"].high) == (0, 100)  # narrowed for the search
    assert graph["max_frontier"].log and not graph["hops"].log  # 1 to 1000 on a log scale
    assert {"max_steps", "passages_per_step", "plan", "verify"} <= agentic
    assert not {"max_seconds", "max_generated_tokens", "answer_tokens"} & agentic  # budgets stay as they are
    assert traditional == ["top_k", "answer_mode"]


def test_a_set_too_small_to_hold_questions_out_is_refused_with_the_fix(demo_ctx, tmp_path):
    path = tmp_path / "three.json"
    path.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:3]))
    with pytest.raises(TuningError, match="at least 8.*raglab testset"):
        tune(demo_ctx, load_qa_set(path), TuneRequest("traditional", trials=2))


def scores(comparison) -> list[tuple]:
    """Per held-out item, each configuration's F1 and recall (not its seconds, which the machine decides)."""
    return [(s.item_id, s.answer_f1, s.recall_at_k) for figures in (comparison.default, comparison.tuned) for s in figures.scores]


def study_of(values_by_trial: list[tuple[dict, list[float]]]):
    """An in-memory study whose finished trials scored these per-question values, the first being the defaults."""
    import optuna

    study = optuna.create_study(direction="maximize")
    distributions = {"top_k": optuna.distributions.IntDistribution(1, 10)}
    for params, values in values_by_trial:
        study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=sum(values) / len(values),
                                                  user_attrs={"item_values": values}))
    return study


def test_the_best_trial_replaces_the_defaults_only_when_it_beats_them_clearly_on_the_tuning_questions():
    defaults = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    lucky = [1, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]  # one question more: the winner's curse
    clearly = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]  # six more, none fewer

    kept, kept_choice = choose_trial(study_of([({"top_k": 5}, defaults), ({"top_k": 2}, lucky)]), {"top_k": 5})
    taken, taken_choice = choose_trial(study_of([({"top_k": 5}, defaults), ({"top_k": 8}, clearly)]), {"top_k": 5})

    assert kept.params == {"top_k": 5} and kept_choice.kept_defaults and kept_choice.best_params == {"top_k": 2}
    assert taken.params == {"top_k": 8} and not taken_choice.kept_defaults and taken_choice.tuning_test.p_value < 0.05
    assert "the defaults are kept" in kept_choice.reason


def trials_of(storage: str, name: str) -> tuple[list, object]:
    study = load_search(storage, name)
    return study.get_trials(deepcopy=False), study


@pytest.mark.slow
def test_the_same_seed_gives_the_same_best_configuration_and_no_trial_answers_a_held_out_question(
    demo_ctx, ten_questions, tmp_path
):
    qa_set = load_qa_set(ten_questions)
    results = [tune(demo_ctx, qa_set, TuneRequest("traditional", trials=2, seed=0, storage=f"sqlite:///{tmp_path}/{name}.db"))
               for name in ("first", "second")]
    trials, study = trials_of(results[0].storage, results[0].study_name)
    held_out = set(study.user_attrs["held_out_ids"])

    assert results[0].best_values == results[1].best_values
    assert [scores(r.comparison) for r in results][0] == [scores(r.comparison) for r in results][1]
    assert held_out == {i.item_id for i in results[0].split.held_out} and len(held_out) == 3
    assert len(trials) == 2 and trials[0].params == {"top_k": 5, "answer_mode": "select"}  # the defaults first
    for trial in trials:
        assert set(trial.user_attrs["item_ids"]).isdisjoint(held_out)
        assert len(trial.user_attrs["item_ids"]) == len(qa_set.items) - len(held_out)


@pytest.mark.slow
def test_a_killed_tune_resumes_stores_each_trial_once_and_a_run_of_its_profile_reports_how_it_was_tuned(
    settings, demo_kb, ten_questions, tmp_path
):
    home = settings.home
    database = home / "tuning" / "studies.sqlite3"
    arguments = ["tune", "--qa", str(ten_questions), "--kb", "demo", "--trials", str(TRIALS), "--seed", "7",
                 "--profile", "killed"]
    name = f"traditional|kb=demo|qa={load_qa_set(ten_questions).sha256[:12]}|seed=7|answer_f1"
    complete = "SELECT COUNT(*) FROM trials JOIN studies USING (study_id) WHERE state = 'COMPLETE' AND study_name = ?"
    first = raglab(*arguments, home=home)
    kill_when(first, lambda: count(database, complete, name) >= 1)
    complete_before = count(database, complete, name)

    resumed = commands.raglab(*arguments, "--json", home=home)

    assert resumed.returncode == 0, resumed.stderr
    assert 1 <= complete_before < TRIALS
    report = json.loads(resumed.stdout)[0]
    assert report["trials"] == TRIALS and report["profile"] == "killed"
    assert report["study"] == name
    trials, study = trials_of(f"sqlite:///{database}", name)
    done = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(done) == TRIALS and len(failed) <= 1  # the trial the kill cut short, if one was running
    assert all(any(f.params.items() <= t.params.items() for t in done) for f in failed)  # its values were tried again
    assert all(set(t.user_attrs.get("item_ids", [])).isdisjoint(study.user_attrs["held_out_ids"]) for t in trials)
    assert json.loads((home / "profiles" / "killed.json").read_text())["strategies"]["traditional"]["settings"]

    evaluated = commands.raglab("eval", "--qa", str(ten_questions), "--kb", "demo", "--limit", "2", "--strategies",
                                "traditional,traditional:killed", "--metrics", "answer", "--json", home=home)
    assert evaluated.returncode == 0, evaluated.stderr
    run_id = json.loads(evaluated.stdout)["run_id"]
    written = commands.raglab("report", run_id, "--format", "html", "--out", str(tmp_path / "r.html"), home=home)
    assert written.returncode == 0, written.stderr
    page = (tmp_path / "r.html").read_text()
    assert "How traditional:killed was tuned" in page and "on the tuning questions" in page
    assert "Objective by trial" in page and page.count("plotly.js v") == 1  # the library inlined once
