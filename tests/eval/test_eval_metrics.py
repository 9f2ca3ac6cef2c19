"""Answer and retrieval metrics and the report's statistics, each checked against an independent oracle."""

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import ndcg_score

from eval.answer_metrics import exact_match, f1_score, normalize_answer
from eval.retrieval_metrics import ndcg_at_k, precision_at_k, recall_at_k
from eval.scoring import LLM_METRICS, UnknownMetric, resolve_metrics
from eval.statistics import bootstrap_mean_interval, paired_comparison


def test_answers_are_compared_after_squad_normalization():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert exact_match("the Beatles.", "Beatles") == 1.0
    assert exact_match("Beatles band", "Beatles") == 0.0


def test_token_f1_matches_the_worked_example_and_hotpotqa_yes_no_rule():
    # predicted "a big red dog" -> [big, red, dog]; gold "red dog" -> precision 2/3, recall 1 -> F1 0.8
    assert f1_score("a big red dog", "the red dog") == pytest.approx(0.8)
    assert f1_score("yes it is", "yes") == 0.0
    assert f1_score("Yes", "yes") == 1.0


def test_ndcg_agrees_with_scikit_learn_when_every_gold_document_is_a_candidate():
    ranked = ["A", "B", "A", "C", "D", "E"]
    gold = ["C", "A", "Z"]
    candidates = ["A", "B", "C", "D", "E", "Z"]
    relevance = [[1.0 if c in gold else 0.0 for c in candidates]]
    scores = [[6, 5, 4, 3, 2, 0]]
    for k in (1, 3, 5):
        assert ndcg_at_k(ranked, gold, k) == pytest.approx(ndcg_score(relevance, scores, k=k))


def test_recall_and_precision_count_documents_not_chunks():
    ranked = ["A", "A", "B", "C"]
    assert recall_at_k(ranked, ["A", "C"], k=2) == 0.5
    assert precision_at_k(ranked, ["A", "C"], k=3) == pytest.approx(2 / 3)
    assert precision_at_k([], ["A"], k=5) == 0.0


def test_bootstrap_interval_is_close_to_scipy_and_skips_unscored_items():
    values = [0.1, 0.9, 0.4, 0.7, 0.3, 0.8, 0.5, None, float("nan")]
    interval = bootstrap_mean_interval(values, resamples=5000)
    scored = np.array([v for v in values if v is not None and v == v])
    oracle = stats.bootstrap((scored,), np.mean, method="percentile", n_resamples=5000, random_state=1).confidence_interval
    assert interval.n == 7 and interval.low < interval.mean < interval.high
    assert interval.low == pytest.approx(oracle.low, abs=0.04) and interval.high == pytest.approx(oracle.high, abs=0.04)


def test_paired_p_value_equals_scipys_exact_paired_permutation_test():
    better = [0.9, 0.8, 0.7, 1.0, 0.6, 0.9, 0.8, 0.75]
    baseline = [0.5, 0.6, 0.7, 0.4, 0.5, 0.3, 0.6, 0.7]
    comparison = paired_comparison(better, baseline)
    oracle = stats.permutation_test(
        (np.array(better), np.array(baseline)),
        lambda a, b: np.mean(a - b),
        permutation_type="samples",
        n_resamples=np.inf,
    )
    assert comparison.p_value == pytest.approx(oracle.pvalue)
    assert comparison.mean_difference > 0 and comparison.low > 0


def test_metric_selection_defaults_to_no_llm_judge_and_names_unknown_metrics():
    assert not set(resolve_metrics(None)) & set(LLM_METRICS)
    assert set(LLM_METRICS) <= set(resolve_metrics("default,llm"))
    assert resolve_metrics("answer_f1,retrieval")[0] == "answer_f1"
    with pytest.raises(UnknownMetric, match="No metric or group 'faithfullness'.*groups: retrieval"):
        resolve_metrics("faithfullness")
