"""Steps several strategies share: reading passages into an answer (generated or selected), reranking,
reciprocal rank fusion.

They import `lab.context` and the rooms below it.
"""

from lab.steps.fusion import RRF_K, reciprocal_rank_fusion
from lab.steps.reading import closed_book_answer, generate_answer, read_passages, tidy_answer
from lab.steps.reranking import RerankParams, finish_retrieval, relevance, rerank
from lab.steps.selecting import resolved_answer_mode

__all__ = [
    "RRF_K",
    "RerankParams",
    "closed_book_answer",
    "finish_retrieval",
    "generate_answer",
    "read_passages",
    "reciprocal_rank_fusion",
    "relevance",
    "rerank",
    "resolved_answer_mode",
    "tidy_answer",
]
