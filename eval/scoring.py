"""Which metrics a run computes, and scoring one strategy's answer to one QA item with them.

Four groups: `retrieval` (recall@k, precision@k, MRR, nDCG@k against the gold document titles),
`answer` (SQuAD/HotpotQA exact match and F1), `ragas` (ragas' non-LLM metrics) and `llm` (ragas' LLM
judged metrics). The default is every group but `llm`: on a CPU a judged metric costs several
generations per item, so judging is asked for by name (`--metrics default,llm`). Metric names are
ragas' own for its metrics; nothing here imports ragas.
"""

import logging
from dataclasses import dataclass

from eval.answer_metrics import exact_match, f1_score
from eval.qa_sets import QAItem
from eval.retrieval_metrics import (
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    reciprocal_rank,
)
from lab.core import Answer

log = logging.getLogger(__name__)

NON_LLM_METRICS = (
    "non_llm_context_precision_with_reference",
    "non_llm_context_recall",
    "exact_match",
    "string_present",
    "rouge_score",
    "bleu_score",
    "semantic_similarity",
)
LLM_METRICS = (
    "faithfulness",
    "answer_relevancy",
    "llm_context_precision_with_reference",
    "context_recall",
    "factual_correctness",
)
RETRIEVAL_METRICS = ("recall_at_k", "precision_at_k", "mrr", "ndcg_at_k")
ANSWER_METRICS = ("answer_em", "answer_f1")
METRIC_GROUPS: dict[str, tuple[str, ...]] = {
    "retrieval": RETRIEVAL_METRICS,
    "answer": ANSWER_METRICS,
    "ragas": NON_LLM_METRICS,
    "llm": LLM_METRICS,
}
METRIC_GROUPS["default"] = RETRIEVAL_METRICS + ANSWER_METRICS + NON_LLM_METRICS
METRIC_GROUPS["all"] = METRIC_GROUPS["default"] + LLM_METRICS
ALL_METRICS = METRIC_GROUPS["all"]


@dataclass(frozen=True)
class MetricValue:
    """A score, or None with the reason it could not be had (NaN in reports)."""

    value: float | None
    reason: str | None = None


class UnknownMetric(ValueError):
    pass


def resolve_metrics(spec: str | None) -> list[str]:
    """'default', 'all', group names and metric names, comma-separated, as an ordered list of metrics."""
    chosen: list[str] = []
    for part in (p.strip() for p in (spec or "default").split(",")):
        if not part:
            continue
        if part in METRIC_GROUPS:
            chosen.extend(METRIC_GROUPS[part])
        elif part in ALL_METRICS:
            chosen.append(part)
        else:
            raise UnknownMetric(
                f"No metric or group {part!r}; groups: {', '.join(METRIC_GROUPS)}; metrics: {', '.join(ALL_METRICS)}."
            )
    if not chosen:
        raise UnknownMetric(f"--metrics names nothing; pass groups ({', '.join(METRIC_GROUPS)}) or metric names.")
    return list(dict.fromkeys(chosen))


def retrieval_scores(item: QAItem, answer: Answer, k: int) -> dict[str, MetricValue]:
    if not item.reference_doc_titles:
        return {name: MetricValue(None, "no reference_doc_titles for this item") for name in RETRIEVAL_METRICS}
    ranked, gold = [p.doc_title for p in answer.passages], item.reference_doc_titles
    return {
        "recall_at_k": MetricValue(recall_at_k(ranked, gold, k)),
        "precision_at_k": MetricValue(precision_at_k(ranked, gold, k)),
        "mrr": MetricValue(reciprocal_rank(ranked, gold)),
        "ndcg_at_k": MetricValue(ndcg_at_k(ranked, gold, k)),
    }


def answer_scores(item: QAItem, answer: Answer) -> dict[str, MetricValue]:
    return {
        "answer_em": MetricValue(exact_match(answer.text, item.reference)),
        "answer_f1": MetricValue(f1_score(answer.text, item.reference)),
    }


class ItemScorer:
    """Every chosen metric for one (item, answer); the ragas metrics are built once for the run.

    `ragas_scorer` is None when no ragas metric is chosen, so ragas is then never imported. When the
    judge endpoint stops answering mid-run, `judge_down` says so once and the LLM metrics are skipped.
    """

    def __init__(self, metric_names: list[str], k: int, ragas_scorer=None):
        self.metric_names = metric_names
        self.k = k
        self.ragas_scorer = ragas_scorer
        self.judge_down: str | None = None

    def score(self, item: QAItem, answer: Answer) -> dict[str, MetricValue]:
        values: dict[str, MetricValue] = {}
        if any(name in RETRIEVAL_METRICS for name in self.metric_names):
            values.update(retrieval_scores(item, answer, self.k))
        if any(name in ANSWER_METRICS for name in self.metric_names):
            values.update(answer_scores(item, answer))
        if self.ragas_scorer is not None:
            values.update(self._ragas_scores(item, answer))
        return {name: values[name] for name in self.metric_names if name in values}

    def _ragas_scores(self, item: QAItem, answer: Answer) -> dict[str, MetricValue]:
        skipped = set(LLM_METRICS) & set(self.metric_names) if self.judge_down else set()
        values = self.ragas_scorer.score(
            item.question,
            answer.text,
            [p.text for p in answer.passages],
            item.reference,
            list(item.reference_contexts),
            skip=skipped,
            on_failure=self._on_failure,
        )
        values.update({name: MetricValue(None, f"skipped: {self.judge_down}") for name in skipped})
        return values

    def _on_failure(self, metric_name: str, error: BaseException) -> None:
        if metric_name in LLM_METRICS and _is_connection_error(error) and not self.judge_down:
            self.judge_down = f"judge endpoint stopped answering ({type(error).__name__})"
            log.warning("%s; LLM metrics are skipped for the rest of the run", self.judge_down)


def _is_connection_error(error: BaseException) -> bool:
    names = {cls.__name__ for cls in type(error).__mro__}
    return bool(names & {"APIConnectionError", "ConnectError", "ConnectTimeout", "ConnectionError"})
