"""Test sets generated from a knowledge base: questions written by rule from real passages of both demos,
kept only when the real generator reads their answer from the cited passages and not from memory."""

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.qa_sets import load_qa_set
from lab.context import LabContext
from lab.core.examples import CLOSED_BOOK_ANSWER, CLOSED_BOOK_QUESTION
from lab.ingestion import DEMO_FILE, DOCS_DEMO_DIR
from lab.kb import StoredChunk
from lab.steps.candidates import CODE_TOKEN
from lab.testsets import MixError, GenerationRequest, build_testset, parse_mix, write_testset
from lab.testsets.drafting import Draft, draft_single, draft_yes_no, facts_in
from lab.testsets.filters import longest_shared_run, model_checks, text_rejection
from tests.commands import raglab
from tests.conftest import build_kb

ALL_KINDS = {"single": 0.4, "yes_no": 0.3, "bridge": 0.1, "comparison": 0.2}


@pytest.fixture(scope="module")
def demo_set(demo_ctx):
    return build_testset(demo_ctx, GenerationRequest(size=16, seed=0, mix=ALL_KINDS))


@pytest.fixture(scope="module")
def docs_ctx(settings, embedder, generator, extractor) -> LabContext:
    kb = build_kb(settings, embedder, "docs-testset", [DOCS_DEMO_DIR])
    return LabContext(settings=settings, generator=generator, embedder=embedder, kb=kb, extractor=extractor)


@pytest.fixture(scope="module")
def docs_set(docs_ctx):
    return build_testset(docs_ctx, GenerationRequest(size=10, seed=0))


def facts_of(extractor, *texts: str, title: str = "Page"):
    chunks = [StoredChunk(i, i, title, 0, len(text), "recursive", 10, text) for i, text in enumerate(texts)]
    return {fact.answer_text: fact for fact in facts_in(chunks, extractor.nlp)}


def test_a_sentence_becomes_a_question_that_its_answer_span_answers(extractor):
    facts = facts_of(extractor, "The harbour bridge in Port Elin opened in 1932.", "The Lumen 3 lamp runs for 12 hours on one charge.")
    assert draft_single(facts["1932"]).question == "In what year did the harbour bridge in Port Elin open?"
    assert draft_single(facts["12 hours"]).question == "How long does the Lumen 3 lamp run?"


def test_a_pronoun_subject_is_asked_about_by_its_page_name(extractor):
    facts = facts_of(extractor, "It was designed by the engineer Mara Holt.", title="Harbour bridge (Port Elin)")
    assert draft_single(facts["Mara Holt"]).question == "Who was Harbour bridge designed by?"


def test_inline_code_is_asked_for_by_what_it_is(extractor):
    facts = facts_of(extractor, "Pass `--force` to overwrite the file.")
    draft = draft_single(facts["--force"])
    assert (draft.question, draft.reference) == ("Which option do you pass?", "--force")


def test_yes_no_questions_keep_the_fact_for_yes_and_swap_it_for_no(extractor):
    facts = facts_of(extractor, "The harbour bridge in Port Elin opened in 1932.")
    yes, no = draft_yes_no(facts["1932"], None), draft_yes_no(facts["1932"], "1958")
    assert (yes.question, yes.reference) == ("Did the harbour bridge in Port Elin open in 1932?", "yes")
    assert (no.question, no.reference) == ("Did the harbour bridge in Port Elin open in 1958?", "no")


def test_a_question_that_copies_its_sentence_is_rejected():
    sentence = "The members all met in high school in 1987 and founded the band three years later."
    draft = Draft("single", "When did the members all meet in high school and found the band?", "1987",
                  (), (sentence,))
    assert longest_shared_run(draft.question, sentence) == 3
    assert text_rejection(draft, [], lambda chunk_id: "") is None
    copied = Draft("single", "Who all met in high school in 1987 and founded the band?", "the members", (), (sentence,))
    assert text_rejection(copied, [], lambda chunk_id: "") == "copies_sentence"


def test_a_question_the_closed_book_answers_is_rejected(demo_ctx):
    draft = Draft("single", CLOSED_BOOK_QUESTION, CLOSED_BOOK_ANSWER, (), (CLOSED_BOOK_QUESTION,))
    checks = model_checks(draft, demo_ctx)
    assert checks.rejection(draft.reference) == "closed_book_answers" and checks.reader is None


@pytest.mark.slow
def test_demo_items_of_every_kind_cite_spans_their_documents_hold(demo_ctx, demo_set):
    kinds = Counter(item.kind for item in demo_set.items)
    assert len(demo_set.items) == 16 and {"single", "yes_no", "comparison"} <= set(kinds)
    assert Counter(item.reference for item in demo_set.items if item.kind == "yes_no").keys() == {"yes", "no"}
    for item in demo_set.items:
        for evidence in item.evidence:
            document = demo_ctx.kb.document_text(demo_ctx.kb.chunks([evidence.chunk_id])[evidence.chunk_id].doc_id)
            assert document[evidence.start : evidence.end] == evidence.text
        if item.kind == "single":
            assert item.evidence[0].text == item.reference


@pytest.mark.slow
def test_every_kept_item_is_read_from_its_passages_and_not_from_memory(demo_ctx, demo_set):
    again = [model_checks(item, demo_ctx).rejection(item.reference) for item in demo_set.items]
    assert again == [None] * len(demo_set.items)
    summary = demo_set.summary()
    assert summary["kept"] == 16 and summary["drafted"] == 16 + sum(summary["rejected"].values())
    assert summary["facts_without_question"] > 0


@pytest.mark.slow
def test_answer_spans_survive_chunking_the_corpus_again(settings, embedder, demo_set):
    rechunked = build_kb(settings, embedder, "demo-fixed-chunks", [DEMO_FILE], chunker="fixed")
    chunks = rechunked.all_chunks()
    for record in demo_set.records():
        for span in record["answer_spans"]:
            holders = [c for c in chunks if c.title == span["doc_title"] and c.start_char <= span["start"] < c.end_char]
            document = rechunked.document_text(holders[0].doc_id)
            assert document[span["start"] : span["end"]] == span["text"]


@pytest.mark.slow
def test_docs_items_include_code_answers_from_real_pages(docs_set):
    references = [item.reference for item in docs_set.items]
    assert any(CODE_TOKEN.fullmatch(reference) for reference in references), references
    assert not any("`" in item.question.replace("``", "") and item.question.count("`") % 2 for item in docs_set.items)


def test_a_mix_names_its_kinds_and_rejects_what_it_does_not_know():
    assert parse_mix("single=1,yes_no=0.5") == {"single": 1.0, "yes_no": 0.5}
    with pytest.raises(MixError, match="kinds: single, yes_no, bridge, comparison"):
        parse_mix("multi_hop=1")
    with pytest.raises(MixError, match="share of 0"):
        parse_mix("single=0")


@pytest.mark.slow
def test_the_written_set_is_a_qa_file_eval_reads(tmp_path: Path, demo_set):
    path = tmp_path / "generated.jsonl"
    write_testset(demo_set, path)
    qa_set = load_qa_set(path)
    assert len(qa_set.items) == 16
    first = json.loads(path.read_text().splitlines()[0])
    assert first["origin"]["kb"] == "demo" and first["origin"]["kb_fingerprint"]
    assert {"type", "source_chunk_ids", "answer_spans"} <= first.keys()


@pytest.mark.slow
def test_raglab_testset_writes_a_set_that_raglab_eval_runs_on_and_its_report_calls_generated(tmp_path: Path, lab_home, demo_kb):
    out = tmp_path / "demo-set.jsonl"
    made = raglab("testset", "--kb", "demo", "--size", "3", "--seed", "1", "--out", str(out), "--json", home=lab_home)
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert summary["kept"] == 3 and summary["out"] == str(out) and summary["generator"].startswith("llama-cpp")
    evaluated = raglab("eval", "--qa", str(out), "--kb", "demo", "--strategies", "traditional", "--metrics",
                       "retrieval,answer", "--json", home=lab_home)
    assert evaluated.returncode == 0, evaluated.stderr
    run = json.loads(evaluated.stdout)
    assert run["items"] == 3
    report = tmp_path / "report.md"
    assert raglab("report", run["run_id"], "--format", "md", "--out", str(report), home=lab_home).returncode == 0
    assert "QA set: generated by llama-cpp" in report.read_text()
