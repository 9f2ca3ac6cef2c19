"""Reciprocal rank fusion: merge ranked lists by rank alone, so scores on different scales never meet.

A passage's fused score is the sum over the lists that hold it of 1 / (k + rank), ranks counted from 1
(Cormack, Clarke and Büttcher, 2009). k = 60 is the paper's value: it flattens the head of each list so
one retriever's first hit cannot outvote agreement between several. Hybrid retrieval fuses BM25 with
dense search; RAG-Fusion fuses the results of several generated queries. Cost: a dictionary pass.
"""

from collections.abc import Sequence
from dataclasses import replace

from lab.core.contracts import Passage

RRF_K = 60
"""The constant of Cormack, Clarke and Buettcher (SIGIR 2009), who found 60 works well across collections; not tuned here."""


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Passage]], limit: int, k: int = RRF_K) -> list[Passage]:
    """The `limit` best passages by fused score, each carrying that score; ties keep first-seen order."""
    fused: dict[int, float] = {}
    first_seen: dict[int, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, start=1):
            fused[passage.chunk_id] = fused.get(passage.chunk_id, 0.0) + 1.0 / (k + rank)
            first_seen.setdefault(passage.chunk_id, passage)
    order = sorted(first_seen, key=lambda chunk_id: -fused[chunk_id])
    return [replace(first_seen[chunk_id], score=fused[chunk_id]) for chunk_id in order[:limit]]
