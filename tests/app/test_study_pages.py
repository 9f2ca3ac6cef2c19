"""The chunking study and the KV-cache mode in the web lab: Corpus re-chunks, Evaluate runs a study, Settings saves."""

from lab.ingestion import DEMO_FILE
from lab.kb import KnowledgeBase
import pytest

from tests.app.test_pages import page
from tests.conftest import build_kb


@pytest.fixture
def lab_env(monkeypatch, settings, demo_kb):
    monkeypatch.setenv("RAGLAB_HOME", str(settings.home))
    return settings


def test_the_corpus_page_previews_every_chunker_and_rechunks_a_knowledge_base_into_a_copy(lab_env, embedder, tmp_path):
    folder = tmp_path / "lamp"
    folder.mkdir()
    (folder / "Manual.md").write_text(
        "# Charging\n\nThe lamp charges over USB-C in two hours. A full charge lasts nine hours.\n\n"
        "# Dimmer\n\nTurn the dimmer ring clockwise to brighten the lamp. It has five steps.\n"
    )
    build_kb(lab_env, embedder, "lamp", [folder])
    app = page("1_Corpus.py").run()
    next(box for box in app.selectbox if box.label == "Knowledge base").set_value("lamp").run()
    previews = [area.label for area in app.text_area]
    for chunker in ("recursive", "fixed", "semantic", "structure"):
        assert f"{chunker} chunk 1" in previews
    app.selectbox(key="rechunk_with").set_value("structure").run()
    next(button for button in app.button if button.label.startswith("Re-chunk into")).click().run()
    assert not app.exception and not app.error
    copy = KnowledgeBase.open(lab_env.home, "lamp-structure")
    assert copy.chunk_count >= 2
    copy.close()


@pytest.mark.slow
def test_the_evaluate_page_runs_a_chunking_study_and_shows_the_chunker_table(lab_env):
    app = page("3_Evaluate.py").run()
    app.number_input[0].set_value(1)
    app.multiselect[2].set_value(["fixed", "recursive"])
    app.multiselect(key="study_strategies").set_value(["traditional"])
    next(button for button in app.button if button.label == "Run chunking study").click().run()
    assert not app.exception and not app.error
    assert "Study `" in app.success[0].value
    table = app.dataframe[0].value
    assert list(table["chunker"]) == ["fixed", "recursive"]
    assert DEMO_FILE.name in " ".join(caption.value for caption in app.caption)


def test_the_kv_cache_mode_is_saved_from_the_settings_page(lab_env, monkeypatch, tmp_path):
    monkeypatch.setenv("RAGLAB_SETTINGS_FILE", str(tmp_path / "settings.toml"))
    app = page("6_Settings.py").run()
    app.selectbox(key="kv_mode").set_value("quantized-int4")
    app.button(key="save").click().run()
    assert not app.exception
    assert 'kv_mode = "quantized-int4"' in (tmp_path / "settings.toml").read_text()
