"""The Tune page in a real browser: a short search on the HotpotQA demo runs to its held-out verdict and its
charts, is saved as a profile, and a longer one resumes it and is cancelled, keeping its finished trials."""

import json

import optuna

from eval.qa_sets import load_qa_set
from eval.tuning import default_storage, load_search
from lab.ingestion import DEMO_FILE
from tests.app.test_hostile_content import SCRIPT_DONE


def finished_trials(home) -> int:
    """Of the page's search: traditional on the whole demo set, seed 0, answer F1."""
    name = f"traditional|kb=demo|qa={load_qa_set(DEMO_FILE).sha256[:12]}|seed=0|answer_f1"
    study = load_search(default_storage(home), name)
    return len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)))


def set_trials(page, trials: int) -> None:
    box = page.get_by_label("Trials per strategy")
    box.fill(str(trials))
    box.press("Enter")
    page.wait_for_function(SCRIPT_DONE, timeout=120_000)


def test_a_search_runs_to_its_verdict_and_charts_and_a_cancelled_one_keeps_its_trials(served_lab, new_page, settings):
    page = new_page(1600, 1400)
    page.goto(f"{served_lab}/Tune")
    page.get_by_label("Save as profile").fill("browser-tuned")
    page.get_by_label("Save as profile").press("Enter")
    set_trials(page, 2)
    page.get_by_role("button", name="Tune", exact=True).click()
    page.get_by_text("saved to profile browser-tuned").wait_for(timeout=600_000)
    page.wait_for_function(SCRIPT_DONE, timeout=120_000)
    body = page.locator("body").inner_text()
    assert "on the tuning questions" in body and "Held-out questions only" in body
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
    assert page.locator(".js-plotly-plot").count() == 3  # objective by trial, importances, parallel coordinates
    profile = json.loads((settings.home / "profiles" / "browser-tuned.json").read_text())
    assert set(profile["strategies"]["traditional"]["settings"]) == {"top_k", "answer_mode"}
    assert finished_trials(settings.home) == 2

    set_trials(page, 30)
    page.get_by_role("button", name="Tune", exact=True).click()
    page.get_by_text("trial 2: question 2 of").wait_for(timeout=300_000)  # resumed after the two finished trials
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The search was cancelled").wait_for(timeout=300_000)
    assert finished_trials(settings.home) == 2
