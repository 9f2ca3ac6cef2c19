"""Dense retrieval on the bundled demo: the floor every other strategy is compared against."""

import statistics

import pytest

from eval.retrieval_metrics import recall_at_k, reciprocal_rank


def gold_titles(record: dict) -> list[str]:
    return sorted({title for title, _ in record["supporting_facts"]})


@pytest.fixture(scope="module")
def dense_top_5(demo_kb, embedder, demo_questions) -> list[list[str]]:
    """The titles of the five passages dense search returns for each demo question, in the questions' order."""
    return [[p.doc_title for p in demo_kb.dense_search(embedder.embed(r["question"]), 5)] for r in demo_questions]


def test_dense_search_finds_at_least_28_of_the_40_supporting_paragraphs_and_one_for_nearly_every_question(
    dense_top_5, demo_questions
):
    """Measured with the default embedder and chunker: 30 of the 40 gold paragraphs (mean recall@5 0.75), and at
    least one for all 20 questions. The bars sit two paragraphs and two questions under that: a paragraph lost to
    noise does not fail them; three of the 30 lost, or three questions left with nothing, do."""
    recalls = [recall_at_k(top, gold_titles(r), 5) for top, r in zip(dense_top_5, demo_questions)]
    assert statistics.mean(recalls) >= 0.70
    assert sum(recall > 0 for recall in recalls) >= 18


def test_dense_search_finds_the_supporting_paragraphs_for_its_question_not_for_any_question(
    dense_top_5, demo_questions
):
    """What the bar above measures is reading the question: each question scored against the top 5 of the next
    question (the same corpus ranked for an unrelated query) finds almost none of its gold paragraphs (measured:
    none), at most a tenth of what its own search finds."""
    own = statistics.mean(recall_at_k(top, gold_titles(r), 5) for top, r in zip(dense_top_5, demo_questions))
    unrelated_top = dense_top_5[1:] + dense_top_5[:1]
    unrelated = statistics.mean(recall_at_k(top, gold_titles(r), 5) for top, r in zip(unrelated_top, demo_questions))
    assert own > 0 and unrelated <= own / 10


def test_recall_counts_a_paragraph_once_even_when_split_into_several_chunks():
    ranked = ["A", "A", "A", "B", "C", "D"]
    assert recall_at_k(ranked, ["B", "D"], 2) == 0.5
    assert recall_at_k(ranked, ["B", "D"], 4) == 1.0
    assert reciprocal_rank(ranked, ["C"]) == 1 / 3
