"""The web lab's home page, through Streamlit's own testing harness."""

import pytest
from streamlit.testing.v1 import AppTest
from tests.conftest import REPO_ROOT

QUESTION = "Which city does Scott Derrickson live in?"


@pytest.mark.slow
def test_home_page_answers_a_question_with_passages_and_stages(monkeypatch, settings, demo_kb):
    monkeypatch.setenv("RAGLAB_HOME", str(settings.home))
    app = AppTest.from_file(str(REPO_ROOT / "Home.py"), default_timeout=300).run()
    assert not app.exception
    app.selectbox(key="kb").set_value("demo").run()
    app.text_input[0].input(QUESTION)
    app.button[0].click().run()
    assert not app.exception
    assert app.subheader[0].value == "Answer"
    assert any("score" in block.proto.body for block in app.get("html"))


@pytest.mark.slow
def test_home_page_builds_the_demo_knowledge_base_when_none_exists(monkeypatch, tmp_path):
    monkeypatch.setenv("RAGLAB_HOME", str(tmp_path))
    app = AppTest.from_file(str(REPO_ROOT / "Home.py"), default_timeout=300).run()
    assert not app.exception
    assert app.selectbox[0].value == "demo"
