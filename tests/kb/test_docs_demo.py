"""The bundled Click documentation demo: real Markdown pages, built into their own KB, and questions answerable from them."""

import json
import re
import sqlite3
from collections import Counter

import pytest

from eval.qa_sets import load_qa_set
from lab.ingestion import (
    BUNDLED_DEMOS,
    DEMO_KB,
    DOCS_DEMO_DIR,
    DOCS_DEMO_KB,
    DOCS_DEMO_QUESTIONS,
    UnknownDemo,
    build_bundled_demo,
    bundled_demo,
)
from lab.kb import KnowledgeBase

QUESTION_TYPES = {"single", "two-doc", "yes-no"}


def squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.fixture(scope="module")
def build_report(settings):
    return build_bundled_demo(settings, DOCS_DEMO_KB)


@pytest.fixture(scope="module")
def ingested(settings, build_report) -> list[tuple[str, str, str]]:
    """(title, source, text) of every document in the built KB, read back from its SQLite file."""
    kb = KnowledgeBase.open(settings.home, DOCS_DEMO_KB)
    try:
        with sqlite3.connect(kb.store.path) as db:
            return db.execute("SELECT title, source, text FROM documents").fetchall()
    finally:
        kb.close()


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return [json.loads(line) for line in DOCS_DEMO_QUESTIONS.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_the_docs_demo_builds_every_page_into_its_own_kb_without_a_failure(build_report, ingested):
    pages = sorted(DOCS_DEMO_DIR.glob("*.md"))
    assert build_report.failures == []
    assert len(build_report.indexed) + len(build_report.unchanged) == len(pages)
    assert 30 <= len(ingested) <= 80 and len(ingested) == len(pages)


@pytest.mark.slow
def test_every_ingested_page_has_a_unique_title_from_its_first_heading(ingested):
    titles = [title for title, _, _ in ingested]
    assert len(set(titles)) == len(titles)
    for title, _, text in ingested:
        assert f"# {title}\n" in text


@pytest.mark.slow
def test_the_licence_ships_beside_the_pages_but_is_not_ingested(ingested):
    assert "Copyright 2014 Pallets" in (DOCS_DEMO_DIR / "LICENSE").read_text()
    assert not any(source.endswith("LICENSE") for _, source, _ in ingested)
    assert {p.suffix for p in DOCS_DEMO_DIR.iterdir() if p.name != "LICENSE"} == {".md"}


def test_the_question_file_loads_as_a_table_of_25_to_40_items(records):
    qa_set = load_qa_set(DOCS_DEMO_QUESTIONS)
    assert qa_set.format == "table"
    assert 25 <= len(qa_set.items) == len(records) <= 40
    assert [item.item_id for item in qa_set.items] == [record["id"] for record in records]


def test_every_question_type_occurs_and_no_other(records):
    counts = Counter(record["type"] for record in records)
    assert set(counts) == QUESTION_TYPES
    assert counts["two-doc"] >= 8 and counts["yes-no"] >= 4


def test_a_two_doc_question_names_two_gold_pages_and_a_single_one_names_one(records):
    for record in records:
        gold = record["reference_doc_titles"]
        assert len(set(gold)) == len(gold), record["id"]
        if record["type"] == "single":
            assert len(gold) == 1, record["id"]
        elif record["type"] == "two-doc":
            assert len(gold) == 2, record["id"]


def test_yes_no_references_are_yes_or_no_and_both_occur(records):
    answers = Counter(record["reference"] for record in records if record["type"] == "yes-no")
    assert set(answers) == {"yes", "no"}
    assert abs(answers["yes"] - answers["no"]) <= 1


@pytest.mark.slow
def test_every_gold_title_is_the_title_of_an_ingested_page(ingested):
    titles = {title for title, _, _ in ingested}
    for item in load_qa_set(DOCS_DEMO_QUESTIONS).items:
        assert item.reference_doc_titles and set(item.reference_doc_titles) <= titles, item.item_id


@pytest.mark.slow
def test_every_short_answer_is_written_in_one_of_its_gold_pages(ingested):
    text_of = {title: squeezed(text) for title, _, text in ingested}
    for item in load_qa_set(DOCS_DEMO_QUESTIONS).items:
        if item.reference in ("yes", "no"):
            continue
        assert any(squeezed(item.reference) in text_of[title] for title in item.reference_doc_titles), item.item_id


def test_the_docs_demo_description_states_its_true_counts(records):
    pages = len(list(DOCS_DEMO_DIR.glob("*.md")))
    description = bundled_demo(DOCS_DEMO_KB).description
    assert f"{len(records)} questions" in description and f"{pages} Markdown pages" in description


def test_the_registry_offers_the_hotpotqa_demo_first_and_the_docs_demo_second():
    assert list(BUNDLED_DEMOS) == [DEMO_KB, DOCS_DEMO_KB]
    for demo in BUNDLED_DEMOS.values():
        assert demo.questions.is_file() and all(source.exists() for source in demo.sources)


def test_asking_for_an_unknown_demo_names_the_known_ones():
    with pytest.raises(UnknownDemo, match=r"No bundled demo 'wiki'; known: demo, docs-demo"):
        bundled_demo("wiki")
