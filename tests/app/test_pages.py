"""Every page of the web lab renders with the demo KB, through Streamlit's testing harness."""

import ast
import re
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest
from tests.conftest import REPO_ROOT

PAGES = REPO_ROOT / "pages"
MODEL_LIBRARIES = ("torch", "transformers", "sentence_transformers", "llama_cpp", "openai", "spacy", "faiss",
                   "networkx", "bm25s", "ragas")


@pytest.fixture
def lab_env(monkeypatch, settings, demo_kb):
    monkeypatch.setenv("RAGLAB_HOME", str(settings.home))
    return settings


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / name), default_timeout=600)


def as_shown(markdown: str) -> str:
    """A message's text as the reader sees it: widgets that read Markdown get text with punctuation escaped."""
    return re.sub(r"\\(.)", r"\1", markdown)


def on_demo(app: AppTest) -> AppTest:
    """Other tests leave knowledge bases in the session home: pick the demo explicitly."""
    return app.selectbox(key="kb").set_value("demo").run()


@pytest.mark.parametrize("name", sorted(p.name for p in PAGES.glob("*.py")))
def test_every_page_renders_without_exceptions(lab_env, name):
    assert not page(name).run().exception


def test_no_page_imports_a_model_library_before_it_draws():
    """First paint: what the pages import before their titles loads no model library (`bench/first_paint.py`)."""
    scripts = [REPO_ROOT / "Home.py", *sorted(PAGES.glob("*.py"))]
    imports = [ast.unparse(node) for script in scripts for node in ast.parse(script.read_text()).body
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    report = f"import sys; print(sorted(set({MODEL_LIBRARIES!r}) & {{name.split('.')[0] for name in sys.modules}}))"
    loaded = subprocess.run([sys.executable, "-c", "\n".join([*imports, report])], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_compare_returns_one_answer_column_per_chosen_strategy(lab_env):
    app = on_demo(page("2_Compare.py").run())
    app.multiselect[0].set_value(["no-retrieval", "traditional"])
    app.text_input[0].input("Who directed the film Ed Wood?")
    app.button[0].click().run()
    assert not app.exception
    assert [h.value for h in app.subheader][:2] == ["no-retrieval", "traditional"]
    assert not app.error
    assert [e.label for e in app.expander if "answer candidates" in e.label] == ["Top 5 answer candidates"]


def test_settings_are_saved_to_the_settings_file(lab_env, monkeypatch, tmp_path):
    monkeypatch.setenv("RAGLAB_SETTINGS_FILE", str(tmp_path / "settings.toml"))
    app = page("6_Settings.py").run()
    app.number_input(key="top_k").set_value(7)
    app.selectbox(key="answer_mode").set_value("generate")
    app.button(key="save").click().run()
    assert not app.exception
    saved = (tmp_path / "settings.toml").read_text()
    assert "top_k = 7" in saved and 'answer_mode = "generate"' in saved


def test_prompt_templates_are_edited_and_saved_and_a_broken_one_is_refused(lab_env, monkeypatch, tmp_path):
    from lab.core.settings import LabSettings

    monkeypatch.setenv("RAGLAB_SETTINGS_FILE", str(tmp_path / "settings.toml"))
    app = page("6_Settings.py").run()
    app.text_area(key="answer_template").input("Context:\n{passages}\nQ: {question}\nA:")
    app.button(key="save").click().run()
    assert not app.exception and not app.error
    assert LabSettings().answer_template == "Context:\n{passages}\nQ: {question}\nA:"

    app.text_area(key="closed_book_template").input("Answer this.")
    app.button(key="save").click().run()
    assert "closed book template lacks {question}" in app.error[0].value
    assert LabSettings().closed_book_template != "Answer this."


def test_an_unreachable_judge_endpoint_is_reported_by_test_connection(lab_env):
    app = page("6_Settings.py").run()
    app.text_input(key="judge_url").input("http://127.0.0.1:9/v1")
    app.button(key="save").click().run()
    app.button(key="test_judge").click().run()
    assert "not answering" in app.error[0].value


def test_testing_the_generator_server_shows_its_models_and_how_it_decides(lab_env, llama_server, monkeypatch, tmp_path):
    from tests.conftest import SERVED_MODEL

    settings_file = tmp_path / "settings.toml"
    settings_file.write_text(
        f'backend = "openai"\ngenerator = "{SERVED_MODEL}"\ngenerator_url = "{llama_server.url}"\ngenerator_retries = 1\n'
    )
    monkeypatch.setenv("RAGLAB_SETTINGS_FILE", str(settings_file))
    app = page("6_Settings.py").run()
    app.button(key="test_generator").click().run()
    assert not app.exception and not app.error
    assert f"{llama_server.url} answered in" in as_shown(app.success[0].value)
    shown = str(app.json[0].value)
    assert SERVED_MODEL in shown and "constrained choice" in shown


def test_searching_an_entity_shows_its_neighbourhood_and_the_chunks_that_mention_it(lab_env):
    app = on_demo(page("5_Graph.py").run())
    app.text_input[0].input("Scott Derrickson").run()
    assert not app.exception
    assert "Scott Derrickson" in [h.value for h in app.subheader]
    assert len(app.dataframe[0].value) > 0
    chunks = [block.proto.body for block in app.get("html")]
    assert chunks and any("Scott Derrickson" in body for body in chunks)


@pytest.fixture
def stored_run(lab_env, demo_ctx, tmp_path):
    import json

    from eval.evaluation import evaluate
    from eval.qa_sets import load_qa_set
    from eval.run_store import RunStore, run_store_path
    from lab.ingestion import DEMO_FILE

    qa_file = tmp_path / "two.json"
    qa_file.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:2]))
    store = RunStore(run_store_path(lab_env.home))
    outcome = evaluate(demo_ctx, load_qa_set(qa_file), ["no-retrieval", "traditional"], ["answer_f1", "retrieval"], store)
    store.close()
    return outcome.run_id


def test_reports_show_a_stored_run_with_charts_and_a_per_question_table(stored_run):
    app = page("4_Reports.py").run()
    assert not app.exception
    assert stored_run in app.selectbox[0].value
    assert len(app.get("plotly_chart")) == 4
    assert {row for row in app.dataframe[0].value["strategy"]} == {"no-retrieval", "traditional"}
