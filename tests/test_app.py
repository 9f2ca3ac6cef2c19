"""The web lab's home page, through Streamlit's own testing harness and in a real browser."""

import os
import urllib.request
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.servers import free_port, raglab_server

REPO_ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Which city does Scott Derrickson live in?"


def test_home_page_answers_a_question_with_passages_and_stages(monkeypatch, settings, demo_kb):
    monkeypatch.setenv("RAGLAB_HOME", str(settings.home))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=300).run()
    assert not app.exception
    app.text_input[0].input(QUESTION)
    app.button[0].click().run()
    assert not app.exception
    assert app.subheader[0].value == "Answer"
    assert any("score" in block.value for block in app.markdown)


def test_home_page_builds_the_demo_knowledge_base_when_none_exists(monkeypatch, tmp_path):
    monkeypatch.setenv("RAGLAB_HOME", str(tmp_path))
    app = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=300).run()
    assert not app.exception
    assert app.selectbox[0].value == "demo"


@pytest.fixture
def served_lab(settings, demo_kb):
    port = free_port()
    url = f"http://localhost:{port}"

    def healthy() -> bool:
        try:
            return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200
        except OSError:
            return False

    with raglab_server(["lab", "--port", str(port)], settings.home, healthy, startup_s=120):
        yield url


def test_in_a_real_browser_the_lab_answers_a_demo_question(served_lab, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(served_lab)
        page.get_by_label("Question").fill(QUESTION)
        page.get_by_label("Question").press("Enter")
        page.get_by_role("button", name="Ask").click()
        page.get_by_role("heading", name="Passages").wait_for(timeout=240_000)
        page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        screenshot = tmp_path / "home.png"
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    assert screenshot.stat().st_size > 10_000
    if target := os.environ.get("RAGLAB_SCREENSHOT_DIR"):
        Path(target).mkdir(parents=True, exist_ok=True)
        (Path(target) / "lab-home.png").write_bytes(screenshot.read_bytes())
