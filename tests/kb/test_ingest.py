"""Ingest: every readable file is indexed, every unreadable one is named with its reason."""

from pathlib import Path

import pytest
from pypdf import PdfWriter

from lab.kb.chunking import make_chunker
from lab.kb.knowledge_base import KnowledgeBase, KnowledgeBaseError


def chunker(settings, embedder, name="recursive"):
    return make_chunker(name, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, None)


def write_bad_inputs(folder: Path) -> dict[str, str]:
    """File name -> a word its failure reason must contain."""
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (folder / "invalid.json").write_text('{"title": "x", "text": ')
    (folder / "nul-bytes.md").write_bytes(b"# Notes\n\x00\x01\x02\x03 not text at all \xff\xfe\x00")
    return {"empty.txt": "empty", "binary.txt": "binary", "corrupt.pdf": "PDF", "invalid.json": "JSON",
            "nul-bytes.md": "binary"}


def test_given_bad_files_when_ingesting_then_the_rest_is_indexed_and_each_is_named(tmp_path, settings, embedder):
    (tmp_path / "good.txt").write_text("Paris is the capital of France.")
    (tmp_path / "good.md").write_text("# Rivers\n\nThe Seine flows through Paris.")
    expected = write_bad_inputs(tmp_path)
    missing = tmp_path / "does-not-exist.txt"
    kb = KnowledgeBase.open(settings.home, "bad-inputs", create=True)

    report = kb.ingest([tmp_path, missing], embedder, chunker(settings, embedder))

    assert sorted(Path(p).name for p in report.indexed) == ["good.md", "good.txt"]
    reasons = {Path(f.path).name: f.reason for f in report.failures}
    assert set(reasons) == set(expected) | {missing.name}
    for name, word in expected.items():
        assert word in reasons[name], reasons[name]
    assert "does not exist" in reasons[missing.name]
    assert kb.chunk_count == 2


ENCODED = {
    "latin1.txt": ("Café au lait, naïve façade, crème brûlée.", "latin-1"),
    "cp1252.md": ("# Pricing\n\nThe “Pro” plan costs €40 a month – billed yearly.", "cp1252"),
    "utf16.txt": ("Ångström units measure 10⁻¹⁰ m; 東京 is Tokyo.", "utf-16"),
    "utf8-bom.txt": ("Zürich has a lake.", "utf-8-sig"),
}


def test_text_in_other_encodings_is_decoded_and_the_report_names_each_encoding(tmp_path, settings, embedder):
    for name, (text, encoding) in ENCODED.items():
        (tmp_path / name).write_bytes(text.encode(encoding))
    kb = KnowledgeBase.open(settings.home, "encodings", create=True)

    report = kb.ingest([tmp_path], embedder, chunker(settings, embedder))

    assert report.failures == [] and len(report.indexed) == 4
    named = {Path(path).name: encoding for path, encoding in report.encodings.items()}
    assert set(named) == {"latin1.txt", "cp1252.md", "utf16.txt"} and named["utf16.txt"] == "utf-16"
    for name, encoding in named.items():  # short texts fit several code pages; the one named must read them right
        assert (tmp_path / name).read_bytes().decode(encoding) == ENCODED[name][0]
    stored = " ".join(chunk.text for chunk in kb.store.chunks(kb.store.all_chunk_ids_and_texts()[0]).values())
    for text, _ in ENCODED.values():
        assert text.split("\n")[-1] in stored


def test_a_valid_pdf_is_read(tmp_path, settings, embedder):
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.write(tmp_path / "blank.pdf")
    kb = KnowledgeBase.open(settings.home, "pdf", create=True)
    report = kb.ingest([tmp_path / "blank.pdf"], embedder, chunker(settings, embedder))
    assert "no text" in report.failures[0].reason


def test_reingesting_an_unchanged_file_does_nothing(tmp_path, settings, embedder):
    (tmp_path / "a.txt").write_text("The Danube flows into the Black Sea.")
    kb = KnowledgeBase.open(settings.home, "unchanged", create=True)
    first = kb.ingest([tmp_path], embedder, chunker(settings, embedder))
    second = kb.ingest([tmp_path], embedder, chunker(settings, embedder))
    assert first.chunks_added == 1
    assert second.unchanged == [str(tmp_path / "a.txt")] and second.chunks_added == 0
    assert kb.chunk_count == 1


def test_a_changed_file_replaces_its_old_documents(tmp_path, settings, embedder):
    source = tmp_path / "notes.jsonl"
    source.write_text('{"title": "Danube", "text": "The Danube flows into the Black Sea."}\n')
    kb = KnowledgeBase.open(settings.home, "changed", create=True)
    kb.ingest([source], embedder, chunker(settings, embedder))
    source.write_text('{"title": "Rhine", "text": "The Rhine flows into the North Sea."}\n')
    kb.ingest([source], embedder, chunker(settings, embedder))
    titles = [p.doc_title for p in kb.dense_search(embedder.embed("Which sea does the river flow into?"), 5)]
    assert titles == ["Rhine"]


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, real):
        self.real, self.embedded = real, 0
        self.model_id, self.dimension = real.model_id, real.dimension

    def embed_many(self, texts, on_progress=None):
        self.embedded += len(texts)
        return self.real.embed_many(texts, on_progress)


def test_reopening_a_knowledge_base_reembeds_nothing_and_searches_the_same(settings, embedder, demo_kb):
    query = embedder.embed("Who directed the film Ed Wood?")
    before = [p.chunk_id for p in demo_kb.dense_search(query, 5)]
    reopened = KnowledgeBase.open(settings.home, "demo")
    counting = CountingEmbedder(embedder)
    assert reopened.repair(counting) == 0 and counting.embedded == 0
    assert [p.chunk_id for p in reopened.dense_search(query, 5)] == before
    assert reopened.keyword_search("Tim Burton", 3)[0].doc_title == "Ed Wood (film)"


def test_an_interrupted_ingest_is_repaired_on_open(tmp_path, settings, embedder):
    (tmp_path / "a.txt").write_text("Lake Baikal is the deepest lake in the world.")
    kb = KnowledgeBase.open(settings.home, "interrupted", create=True)
    kb.ingest([tmp_path], embedder, chunker(settings, embedder))
    (kb.folder / "dense.faiss").unlink()
    reopened = KnowledgeBase.open(settings.home, "interrupted")
    assert reopened.repair(embedder) == 1
    assert reopened.dense_search(embedder.embed("deepest lake"), 1)[0].doc_title == "a"


def test_a_hotpotqa_file_becomes_one_document_per_unique_paragraph(demo_kb, demo_questions):
    paragraphs = {(title, "".join(sentences).strip()) for r in demo_questions for title, sentences in r["context"]}
    assert demo_kb.stats()["documents"] == len(paragraphs) == 199


def test_opening_a_missing_knowledge_base_names_the_ones_that_exist(settings, demo_kb):
    with pytest.raises(KnowledgeBaseError, match=r"No knowledge base 'nope'.*known: .*demo"):
        KnowledgeBase.open(settings.home, "nope")


def test_a_knowledge_base_name_cannot_escape_the_home(settings):
    with pytest.raises(KnowledgeBaseError, match="Invalid knowledge base name"):
        KnowledgeBase.open(settings.home, "../outside", create=True)
