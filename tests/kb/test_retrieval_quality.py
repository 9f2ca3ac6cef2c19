"""Dense retrieval on the bundled demo: the floor every other strategy is compared against."""

import statistics

from eval.retrieval_metrics import recall_at_k, reciprocal_rank


def gold_titles(record: dict) -> list[str]:
    return sorted({title for title, _ in record["supporting_facts"]})


def test_dense_recall_at_5_of_supporting_paragraphs_is_at_least_075(demo_kb, embedder, demo_questions):
    recalls = []
    for record in demo_questions:
        passages = demo_kb.dense_search(embedder.embed(record["question"]), 5)
        recalls.append(recall_at_k([p.doc_title for p in passages], gold_titles(record), 5))
    assert statistics.mean(recalls) >= 0.75


def test_recall_counts_a_paragraph_once_even_when_split_into_several_chunks():
    ranked = ["A", "A", "A", "B", "C", "D"]
    assert recall_at_k(ranked, ["B", "D"], 2) == 0.5
    assert recall_at_k(ranked, ["B", "D"], 4) == 1.0
    assert reciprocal_rank(ranked, ["C"]) == 1 / 3
