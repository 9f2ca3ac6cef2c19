"""The chunking study: one cached knowledge base per chunker, every strategy on each, one run with a chunker table."""

import json
from pathlib import Path

import pytest

from eval.sweep import build_chunker_kb, study_fingerprint
from lab.kb import KnowledgeBase, make_chunker
from lab.ingestion import DEMO_FILE
from tests.commands import raglab

LAMP_PAGES = {
    "Charging.md": "# Charging\n\nThe Lumen 3 lamp charges over USB-C in two hours. A full charge lasts nine hours.\n",
    "Dimmer.md": "# Dimmer\n\nTurn the dimmer ring clockwise to brighten the lamp. It has five steps.\n",
}


@pytest.fixture
def lamp_docs(tmp_path) -> Path:
    folder = tmp_path / "lamp"
    folder.mkdir()
    for name, text in LAMP_PAGES.items():
        (folder / name).write_text(text)
    return folder


def test_the_same_documents_and_settings_reuse_the_knowledge_base_built_before(settings, embedder, generator, lamp_docs):
    first = build_chunker_kb(settings, embedder, generator, [lamp_docs], "recursive")
    again = build_chunker_kb(settings, embedder, generator, [lamp_docs], "recursive")
    assert not first.reused and again.reused
    assert again.kb_name == first.kb_name and again.chunks == first.chunks == 2
    assert again.ingest_s == first.ingest_s


def test_the_cache_key_changes_with_a_file_the_chunker_or_a_chunk_setting(settings, lamp_docs):
    key = study_fingerprint([lamp_docs], "recursive", settings, "embedder")
    assert key == study_fingerprint([lamp_docs], "recursive", settings, "embedder")
    assert key != study_fingerprint([lamp_docs], "fixed", settings, "embedder")
    assert key != study_fingerprint([lamp_docs], "recursive", settings.model_copy(update={"chunk_tokens": 64}), "embedder")
    (lamp_docs / "Dimmer.md").write_text("# Dimmer\n\nThe dimmer ring has seven steps.\n")
    assert key != study_fingerprint([lamp_docs], "recursive", settings, "embedder")


def test_a_chunker_that_fails_on_one_file_is_reported_and_the_other_files_are_indexed(settings, embedder, generator, lamp_docs):
    """The llm chunker asks the model about each sentence boundary; a sentence longer than the model's
    context window makes that call fail, for that file only."""
    (lamp_docs / "runaway.txt").write_text(" ".join(["word"] * 9000) + ". A second sentence follows here.")
    kb = KnowledgeBase.open(settings.home, "study-failure", create=True)
    llm_chunker = make_chunker("llm", embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, lambda: generator)
    report = kb.ingest([lamp_docs], embedder, llm_chunker)
    kb.close()
    assert sorted(Path(p).name for p in report.indexed) == sorted(LAMP_PAGES)
    assert [Path(f.path).name for f in report.failures] == ["runaway.txt"]
    assert "the llm chunker failed on it" in report.failures[0].reason


@pytest.mark.slow
def test_raglab_sweep_stores_one_run_keyed_by_chunker_and_strategy_with_a_chunker_table(settings, tmp_path):
    questions = tmp_path / "two.json"
    questions.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:2]))
    args = ("sweep", "--qa", str(questions), "--docs", str(DEMO_FILE), "--chunkers", "fixed,recursive",
            "--strategies", "traditional,bm25", "--json")
    result = raglab(*args, home=settings.home)
    assert result.returncode == 0, result.stderr
    study = json.loads(result.stdout)
    pairs = {(row["chunker"], row["strategy"]) for row in study["rows"]}
    assert pairs == {("fixed", "traditional"), ("fixed", "bm25"), ("recursive", "traditional"), ("recursive", "bm25")}
    for row in study["rows"]:
        assert row["chunks"] > 100 and row["recall_at_k"] is not None and len(row["recall_at_k_ci"]) == 2
        assert row["answer_f1"] is not None and row["seconds_per_question"] > 0
    assert [c["chunker"] for c in study["chunkers"]] == ["fixed", "recursive"]
    assert all(c["verdict"].startswith("best on") for c in study["chunkers"])

    again = raglab(*args, home=settings.home)
    assert again.returncode == 0, again.stderr
    assert all(c["reused"] for c in json.loads(again.stdout)["chunkers"])

    report = tmp_path / "study.html"
    written = raglab("report", study["run_id"], "--format", "html", "--out", str(report), home=settings.home)
    assert written.returncode == 0, written.stderr
    page = report.read_text()
    assert "<h2>Chunkers (each over all its strategies' answers)</h2>" in page and "fixed/traditional" in page
