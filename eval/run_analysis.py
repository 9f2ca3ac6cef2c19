"""What a report says about a stored run: per-item scores, means with intervals, paired comparisons.

Read from the run store only, so a report can be rebuilt at any time, and of a run still going.
Items a metric could not score and results whose strategy raised are left out of that metric's mean
and counted, so a mean over 3 of 20 items cannot pass for a mean over 20.
"""

from collections import Counter
from dataclasses import dataclass

from eval.qa_sets import QAItem
from eval.run_store import RunRecord, RunStore, StoredResult
from eval.statistics import (
    Interval,
    PairedComparison,
    bootstrap_mean_interval,
    paired_comparison,
)

BASELINE = "traditional"


@dataclass(frozen=True)
class RunAnalysis:
    run: RunRecord
    items: list[QAItem]
    results: list[StoredResult]
    strategies: list[str]
    metrics: list[str]
    scores: dict[str, dict[str, list[float | None]]]
    intervals: dict[str, dict[str, Interval]]
    baseline: str | None
    comparisons: dict[str, dict[str, PairedComparison]]
    answered: dict[str, int]
    errors: dict[str, int]
    unscored_reasons: dict[str, Counter]
    events: list[tuple[str, str, str]]

    def means(self) -> dict[str, dict[str, float | None]]:
        """Strategy to metric to mean over scored items; None where no item scored (JSON has no NaN)."""
        return {
            strategy: {m: (i.mean if i.n else None) for m, i in self.intervals[strategy].items()}
            for strategy in self.strategies
        }


def analyze_run(store: RunStore, run_id: str, seed: int = 0, baseline: str = BASELINE) -> RunAnalysis:
    run = store.run(run_id)
    items = store.items(run_id)
    results = store.results(run_id)
    by_key = {(r.item_id, r.strategy): r for r in results}
    strategies = list(run.strategies)
    metrics = [m for m in run.metrics if any(m in r.metrics for r in results)] or list(run.metrics)
    scores = {
        s: {m: [_value(by_key.get((item.item_id, s)), m) for item in items] for m in metrics} for s in strategies
    }
    intervals = {s: {m: bootstrap_mean_interval(scores[s][m], seed=seed) for m in metrics} for s in strategies}
    has_baseline = baseline in strategies
    comparisons = {
        s: {m: paired_comparison(scores[s][m], scores[baseline][m], seed=seed) for m in metrics}
        for s in strategies
        if has_baseline and s != baseline
    }
    reasons: dict[str, Counter] = {m: Counter() for m in metrics}
    for result in results:
        for m in metrics:
            value = result.metrics.get(m)
            if value is not None and value.value is None:
                reasons[m][value.reason or "not scored"] += 1
    return RunAnalysis(
        run=run,
        items=items,
        results=results,
        strategies=strategies,
        metrics=metrics,
        scores=scores,
        intervals=intervals,
        baseline=baseline if has_baseline else None,
        comparisons=comparisons,
        answered={s: sum(1 for r in results if r.strategy == s) for s in strategies},
        errors={s: sum(1 for r in results if r.strategy == s and r.error) for s in strategies},
        unscored_reasons=reasons,
        events=store.events(run_id),
    )


def _value(result: StoredResult | None, metric: str) -> float | None:
    if result is None or result.error:
        return None
    value = result.metrics.get(metric)
    return value.value if value is not None else None
