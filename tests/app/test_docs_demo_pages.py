"""Both bundled demos on the Corpus and Evaluate pages, through Streamlit's testing harness, on an empty lab home."""

import pytest
from streamlit.testing.v1 import AppTest

from lab.ingestion import DEMO_KB, DOCS_DEMO_KB
from tests.conftest import REPO_ROOT

PAGES = REPO_ROOT / "pages"


@pytest.fixture
def empty_home(monkeypatch, tmp_path):
    monkeypatch.setenv("RAGLAB_HOME", str(tmp_path))
    return tmp_path


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / name), default_timeout=120)


def test_the_corpus_page_offers_both_bundled_demos_with_a_build_button(empty_home):
    app = page("1_Corpus.py").run()
    assert not app.exception
    demos = app.radio(key="bundled_demo")
    assert demos.value == DEMO_KB
    assert [label.split(":")[0] for label in demos.options] == ["HotpotQA multi-hop", "Click documentation"]
    demos.set_value(DOCS_DEMO_KB).run()
    assert not app.exception
    assert app.button(key="build_demo").label == f"Build `{DOCS_DEMO_KB}`"
    assert any(f"`{DOCS_DEMO_KB}` is not built yet" in caption.value for caption in app.caption)


def test_the_evaluate_page_asks_each_demo_question_set_of_its_own_knowledge_base(empty_home):
    app = page("3_Evaluate.py").run()
    assert not app.exception
    source = app.radio(key="qa_source")
    assert source.value == DEMO_KB and len(source.options) == 4  # two demos, a generated set, an upload
    source.set_value(DOCS_DEMO_KB).run()
    assert not app.exception
    assert f"Knowledge base `{DOCS_DEMO_KB}` is not built yet" in app.info[0].value
    assert app.button(key="build_demo_for_eval").label == f"Build `{DOCS_DEMO_KB}`"
    run = next(button for button in app.button if button.label == "Run evaluation")
    assert run.disabled
