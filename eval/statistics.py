"""How sure a report may be: bootstrap confidence intervals and a paired permutation test.

A QA set of 20 questions gives means that move a lot from sample to sample; a bar without an
interval invites reading noise as a win. The interval is the percentile bootstrap (Efron &
Tibshirani, 1993) of the mean over items. Two strategies answer the *same* questions, so they are
compared on per-item differences: the p-value is a paired sign-flip permutation test (Fisher's
randomization test, as Dror et al., 2018 recommend for NLP), exact when the items are few enough to
enumerate every sign pattern. Items a metric could not score (NaN) are left out, pairwise.
"""

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

EXACT_PERMUTATION_MAX_ITEMS = 16
"""Up to here the paired test enumerates every sign flip (2^16 = 65,536 rows, about a second here); above, it samples.
A cost bound chosen by hand, not a tuned figure."""


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int


@dataclass(frozen=True)
class PairedComparison:
    mean_difference: float
    low: float
    high: float
    p_value: float
    n: int


def finite(values: Sequence[float | None]) -> np.ndarray:
    array = np.array([np.nan if v is None else v for v in values], dtype=float)
    return array[np.isfinite(array)]


def bootstrap_mean_interval(
    values: Sequence[float | None], confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> Interval:
    """Mean of the scored values with its percentile-bootstrap interval; NaN everywhere when none scored."""
    scored = finite(values)
    if scored.size == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    rng = np.random.default_rng(seed)
    means = rng.choice(scored, size=(resamples, scored.size), replace=True).mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(float(scored.mean()), float(low), float(high), int(scored.size))


def paired_comparison(
    values: Sequence[float | None],
    baseline: Sequence[float | None],
    confidence: float = 0.95,
    resamples: int = 10000,
    seed: int = 0,
) -> PairedComparison:
    """Mean of (values - baseline) over items both scored, its bootstrap interval, and a two-sided p-value."""
    pairs = np.array(
        [(a, b) for a, b in zip(values, baseline) if a is not None and b is not None and math.isfinite(a) and math.isfinite(b)],
        dtype=float,
    ).reshape(-1, 2)
    differences = pairs[:, 0] - pairs[:, 1]
    if differences.size == 0:
        return PairedComparison(math.nan, math.nan, math.nan, math.nan, 0)
    interval = bootstrap_mean_interval(differences.tolist(), confidence, resamples=2000, seed=seed)
    return PairedComparison(interval.mean, interval.low, interval.high, permutation_p_value(differences, resamples, seed), int(differences.size))


def permutation_p_value(differences: np.ndarray, resamples: int = 10000, seed: int = 0) -> float:
    """Share of sign flips whose mean difference is at least as far from zero as the observed one."""
    observed = abs(differences.mean())
    if differences.size <= EXACT_PERMUTATION_MAX_ITEMS:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=differences.size)))
    else:
        signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(resamples, differences.size))
    flipped = np.abs((signs * differences).mean(axis=1))
    return float(np.mean(flipped >= observed - 1e-12))
