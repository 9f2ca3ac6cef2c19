"""Retrieval metrics against gold documents, by title, as HotpotQA's supporting facts define them."""

import math
from collections.abc import Sequence


def unique_titles(titles: Sequence[str]) -> list[str]:
    """Ranked titles with repeats removed: two chunks of one paragraph retrieve it once."""
    return list(dict.fromkeys(titles))


def recall_at_k(ranked_titles: Sequence[str], gold_titles: Sequence[str], k: int) -> float:
    """Share of the gold documents found among the first k retrieved documents."""
    gold = set(gold_titles)
    return len(gold & set(unique_titles(ranked_titles)[:k])) / len(gold) if gold else 0.0


def reciprocal_rank(ranked_titles: Sequence[str], gold_titles: Sequence[str]) -> float:
    gold = set(gold_titles)
    for rank, title in enumerate(unique_titles(ranked_titles), start=1):
        if title in gold:
            return 1.0 / rank
    return 0.0


def precision_at_k(ranked_titles: Sequence[str], gold_titles: Sequence[str], k: int) -> float:
    """Share of the first k retrieved documents that are gold; 0 when nothing was retrieved."""
    top = unique_titles(ranked_titles)[:k]
    return len(set(gold_titles) & set(top)) / len(top) if top else 0.0


def ndcg_at_k(ranked_titles: Sequence[str], gold_titles: Sequence[str], k: int) -> float:
    """Binary-relevance nDCG (Järvelin & Kekäläinen, 2002): gold found early counts more than gold found late."""
    gold = set(gold_titles)
    gains = [1.0 / math.log2(rank + 1) for rank, title in enumerate(unique_titles(ranked_titles)[:k], start=1) if title in gold]
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return sum(gains) / ideal if ideal else 0.0
