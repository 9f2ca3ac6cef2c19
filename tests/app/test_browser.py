"""The web lab in a real browser: headless Chromium drives the Compare page as a person would.

The tests share one served lab (the session's `served_lab`) and one Chromium: each opens its own page."""

import os
import re
import time
from pathlib import Path

import pytest

from strategies import available_strategies
from tests.conftest import SERVED_MODEL
from tests.servers import lab_server

QUESTION = "Which city was the director of the film Ed Wood born in?"
HOME_QUESTION = "Which city does Scott Derrickson live in?"


@pytest.fixture(scope="module")
def served_lab_on_openai(settings, demo_kb, llama_server):
    """The web lab with the openai backend, on a real llama.cpp server."""
    url, lab = lab_server(settings.home, ["--backend", "openai", "--generator-url", llama_server.url,
                                          "--generator", SERVED_MODEL])
    with lab:
        yield url


@pytest.fixture(params=["llama-cpp", "openai"])
def lab_on_each_backend(request, served_lab, served_lab_on_openai):
    """The web lab on the default in-process llama.cpp backend, and on a real llama.cpp server via openai."""
    return request.param, served_lab if request.param == "llama-cpp" else served_lab_on_openai


def test_compare_and_evaluate_work_on_each_backend(lab_on_each_backend, new_page, tmp_path):
    backend, url = lab_on_each_backend
    page = new_page(1600, 1400)
    page.goto(f"{url}/Compare")
    page.get_by_label("Question").fill(QUESTION)
    page.get_by_label("Question").press("Enter")
    page.get_by_role("button", name="Compare").click()
    page.get_by_role("heading", name="Same question, all strategies").wait_for(timeout=600_000)
    compare_text = page.locator("body").inner_text()
    page.goto(f"{url}/Evaluate")
    page.get_by_label("Questions (the first N of the set; 0 = all)").fill("2")
    page.get_by_label("Questions (the first N of the set; 0 = all)").press("Enter")
    page.get_by_role("button", name="Run evaluation").click()
    page.get_by_text("results computed").wait_for(timeout=600_000)
    evaluate_text = page.locator("body").inner_text()
    page.screenshot(path=str(tmp_path / f"evaluate-{backend}.png"), full_page=True)
    assert f"{backend} · " in compare_text and "agentic" in compare_text
    assert "4 results computed" in evaluate_text and "0 errors" in evaluate_text
    assert f"Generator: {backend}" in evaluate_text


def keep_screenshot(path: Path, name: str) -> None:
    """Copy a screenshot where the README's images are refreshed from, when asked to."""
    if target := os.environ.get("RAGLAB_SCREENSHOT_DIR"):
        Path(target).mkdir(parents=True, exist_ok=True)
        (Path(target) / name).write_bytes(path.read_bytes())


def test_compare_shows_one_filled_answer_column_per_chosen_strategy(served_lab, new_page, tmp_path):
    expected = [name for name in ("traditional", "hyde", "graph", "agentic") if name in available_strategies()]
    page = new_page(1600, 1400)
    page.goto(f"{served_lab}/Compare")
    page.get_by_label("Question").fill(QUESTION)
    page.get_by_label("Question").press("Enter")
    clicked = time.monotonic()
    page.get_by_role("button", name="Compare").click()
    page.get_by_role("heading", name="Same question, all strategies").wait_for(timeout=600_000)
    filled_s = time.monotonic() - clicked
    page.locator(".js-plotly-plot .main-svg").last.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    headings = [h.strip() for h in page.locator("h3").all_inner_texts()]
    screenshot = tmp_path / "compare.png"
    page.screenshot(path=str(screenshot), full_page=True)
    for name in expected:
        assert name in headings
    assert screenshot.stat().st_size > 20_000
    keep_screenshot(screenshot, "compare.png")
    print(f"Compare: {len(expected)} strategies filled {filled_s:.1f} s after the click")


def test_compare_draws_the_multi_agent_team_as_swim_lanes(served_lab, new_page, tmp_path):
    page = new_page(1600, 1400)
    page.goto(f"{served_lab}/Compare")
    page.get_by_role("button", name="Clear all").click()
    page.get_by_role("combobox", name="Strategies").fill("multi-agent")
    page.get_by_role("option", name="multi-agent").click()
    page.get_by_label("Question").fill(QUESTION)
    page.get_by_label("Question").press("Enter")
    page.get_by_role("button", name="Compare").click()
    page.get_by_role("heading", name="multi-agent: the agents, lane by lane").wait_for(timeout=600_000)
    lanes = page.locator(".js-plotly-plot").filter(has_text="consensus")
    lanes.locator(".main-svg").first.wait_for(timeout=60_000)
    lanes.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    lane_labels = lanes.inner_text()
    bars = lanes.locator("g.barlayer path").count()
    arrows = lanes.locator("g.annotation").count()
    screenshot = tmp_path / "multi-agent.png"
    lanes.screenshot(path=str(screenshot))
    for agent in ("manager", "dense researcher", "BM25 researcher", "graph researcher", "consensus"):
        assert agent in lane_labels
    assert "LLM calls" in lane_labels
    assert bars >= 5 and arrows >= 7, "a bar per agent step, an arrow per message (3 tasks, 3 proposals, the answer)"
    keep_screenshot(screenshot, "multi-agent.png")


def test_in_a_real_browser_the_lab_answers_a_demo_question(served_lab, new_page, tmp_path):
    page = new_page(1280, 1100)
    page.goto(served_lab)
    page.get_by_label("Question").fill(HOME_QUESTION)
    page.get_by_label("Question").press("Enter")
    page.get_by_role("button", name="Ask").click()
    page.get_by_role("heading", name="Passages").wait_for(timeout=240_000)
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1000)
    screenshot = tmp_path / "home.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    keep_screenshot(screenshot, "lab-home.png")


def test_a_cancelled_evaluation_keeps_what_it_stored_and_resumes_to_the_end(served_lab, new_page, settings):
    from eval.run_store import RunStore, run_store_path

    questions, strategies = 4, 2  # the page's default strategies: no-retrieval and traditional
    page = new_page(1600, 1400)
    page.goto(f"{served_lab}/Evaluate")
    limit = page.get_by_label("Questions (the first N of the set; 0 = all)")
    limit.fill(str(questions))
    limit.press("Enter")
    page.get_by_role("button", name="Run evaluation").click()
    page.get_by_text(re.compile(r"^(no-retrieval|traditional) · ")).wait_for(timeout=600_000)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("The evaluation was cancelled").wait_for(timeout=120_000)
    run = RunStore(run_store_path(settings.home)).summaries()[0]
    stored_at_cancel = run.results_done
    page.get_by_text("Resume an interrupted run (1)").wait_for(timeout=60_000)
    page.get_by_role("button", name="Resume").click()
    page.get_by_text("results computed").wait_for(timeout=600_000)
    outcome = page.locator("body").inner_text()
    total = questions * strategies
    assert 0 < stored_at_cancel < total, "stopped mid-run, with what it had finished stored"
    computed, kept = map(int, re.search(rf"{run.run.run_id}\W+(\d+) results computed, (\d+) kept", outcome).groups())
    assert stored_at_cancel <= kept <= stored_at_cancel + 1, "the answer in flight at the click may finish, no other"
    assert computed + kept == total
    assert len(RunStore(run_store_path(settings.home)).finished(run.run.run_id)) == total
