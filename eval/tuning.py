"""Tuning one strategy for a corpus: a search on the tuning part of a QA set, reported on the part it never saw.

The QA set is split once per seed (`eval.held_out`); every trial answers tuning questions only and stores
the ids it answered, so a leak would show in the study itself. The search is Optuna's (Akiba et al., 2019):
the TPE sampler (Bergstra et al., 2011), seeded, so the same search gives the same trials, with the
defaults as its first trial; and the median pruner, which stops a trial whose running score after a batch
of questions is below the median of earlier trials at that point. The study lives in an SQLite file in
the lab home, so a killed search resumes; a database URL shared by several machines lets each run trials
of one study (Optuna's distributed mode), up to the same total.
"""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from eval.evaluation import answer_or_error
from eval.held_out import (
    Choice, HeldOutComparison, ItemScores, QASplit, choose_trial, compare_on_held_out, score_item, split_qa_set,
)
from eval.qa_sets import QAItem, QASet
from eval.search_space import configuration_of, default_values, search_space
from lab.context import LabContext
from lab.core import exclusive
from lab.steps import resolved_answer_mode
from strategies import available_strategies
from eval.profiles import Configuration, configured

log = logging.getLogger(__name__)

OBJECTIVES = ("answer_f1", "recall_at_k", "f1_within_budget")
BATCHES = 4
"""A trial reports its running score after each quarter of the tuning questions, where the pruner may stop it."""
PRUNER_STARTUP_TRIALS = 5
"""Optuna's default: no trial is pruned before five have finished, so the median means something."""


class TuningError(ValueError):
    pass


class TuningBusy(RuntimeError):
    pass


@dataclass(frozen=True)
class TuneRequest:
    strategy: str
    trials: int | None = 20
    minutes: float | None = None
    seed: int = 0
    objective: str = "answer_f1"
    seconds_per_question: float | None = None
    """The budget of `f1_within_budget`: a configuration slower than this on average scores F1 × budget / seconds."""
    storage: str | None = None
    """An Optuna database URL shared by several machines; None keeps the study in the lab home."""


@dataclass(frozen=True)
class TuneResult:
    strategy: str
    study_name: str
    storage: str
    best_values: dict[str, Any]
    best_configuration: Configuration
    trials: int
    pruned: int
    seconds: float
    split: QASplit
    comparison: HeldOutComparison
    choice: Choice

    def provenance(self, kb: str, qa_set: QASet) -> dict[str, Any]:
        """What a profile keeps of the search that chose its configuration, for reports to show."""
        return {"kb": kb, "qa": str(qa_set.path), "qa_sha256": qa_set.sha256, "study": self.study_name,
                "storage": self.storage, "trials": self.trials, "choice": self.choice.reason,
                "held_out": self.comparison.to_json()}

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "study": self.study_name,
            "best_params": self.best_values,
            "trials": self.trials,
            "pruned": self.pruned,
            "seconds": round(self.seconds, 1),
            "tuning_items": len(self.split.tuning),
            "held_out_items": len(self.split.held_out),
            **self.choice.to_json(),
            **self.comparison.to_json(),
        }


def study_name(ctx: LabContext, qa_set: QASet, request: TuneRequest) -> str:
    """One study per strategy, KB, QA file, seed and objective: the same command resumes the same search."""
    budget = f"-{request.seconds_per_question:g}s" if request.objective == "f1_within_budget" else ""
    return (f"{request.strategy}|kb={ctx.kb.name}|qa={qa_set.sha256[:12]}|seed={request.seed}"
            f"|{request.objective}{budget}")


def default_storage(home: Path) -> str:
    path = home / "tuning" / "studies.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def tune(
    ctx: LabContext,
    qa_set: QASet,
    request: TuneRequest,
    on_progress: Callable[[float, str], None] | None = None,
) -> TuneResult:
    """Search, or resume the search the same request started; then compare the best configuration with the
    defaults on the held-out questions. A stop (Ctrl-C, the page's Cancel) keeps every finished trial."""
    _check(qa_set, request)
    name = study_name(ctx, qa_set, request)
    storage = request.storage or default_storage(ctx.settings.home)
    lock = ctx.settings.home / "tuning" / f"{hashlib.sha256(name.encode()).hexdigest()[:16]}.lock"

    def refusal(pid: str) -> TuningBusy:
        return TuningBusy(f"This search is running in another process (pid {pid}); wait for it, or change --seed.")

    with exclusive(lock, refusal):
        return _search_and_compare(ctx, qa_set, request, name, storage, on_progress or (lambda f, m: None))


def _search_and_compare(
    ctx: LabContext, qa_set: QASet, request: TuneRequest, name: str, storage: str, progress: Callable[[float, str], None]
) -> TuneResult:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    strategy_class = available_strategies()[request.strategy]
    dimensions = search_space(strategy_class)
    study = optuna.create_study(
        storage=storage, study_name=name, direction="maximize", load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=request.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS),
    )
    split = _study_split(study, qa_set, request.seed)
    user_settings = {"top_k": ctx.settings.top_k, "answer_mode": resolved_answer_mode(ctx.settings.answer_mode, ctx.generator)}
    defaults = default_values(strategy_class, dimensions, user_settings)
    if not study.trials:
        study.enqueue_trial(defaults)
    if request.storage is None:
        _retry_trials_left_running(study)

    finished_states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    target = request.trials

    started = time.monotonic()

    def finished() -> int:
        return len(study.get_trials(deepcopy=False, states=finished_states))

    def objective(trial: "optuna.Trial") -> float:
        values = {d.name: d.suggest(trial) for d in dimensions}
        configuration = configuration_of(values, dimensions)
        strategy, trial_ctx = _in_context(request.strategy, configuration, ctx)
        scores: list[ItemScores] = []
        batch = max(1, -(-len(split.tuning) // BATCHES))
        for position, item in enumerate(split.tuning):
            scores.append(_answered(strategy, trial_ctx, item))
            trial.set_user_attr("item_ids", [s.item_id for s in scores])
            by_trials = (finished() + (position + 1) / len(split.tuning)) / target if target else 0.0
            by_clock = (time.monotonic() - started) / (request.minutes * 60) if request.minutes else 0.0
            progress(0.8 * min(1.0, max(by_trials, by_clock)),
                     f"trial {trial.number}: question {position + 1} of {len(split.tuning)}")
            if (position + 1) % batch == 0 and position + 1 < len(split.tuning):
                trial.report(_objective_value(scores, request), step=position + 1)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        for metric in ("answer_f1", "recall_at_k", "seconds"):
            trial.set_user_attr(metric, _mean([getattr(s, metric) for s in scores]))
        trial.set_user_attr("item_values", _item_values(scores, request))
        return _objective_value(scores, request)

    remaining = None if target is None else max(0, target - finished())
    if remaining != 0:
        callbacks = [optuna.study.MaxTrialsCallback(target, states=finished_states)] if target else []
        study.optimize(objective, n_trials=remaining, timeout=request.minutes * 60 if request.minutes else None,
                       callbacks=callbacks)
    seconds = time.monotonic() - started
    chosen, choice = choose_trial(study, defaults)
    best_configuration = configuration_of(chosen.params, dimensions)
    progress(0.8, "comparing the best configuration with the defaults on the held-out questions")
    comparison = compare_on_held_out(
        study, split.held_out,
        lambda configuration, item: _answered(*_in_context(request.strategy, configuration, ctx), item),
        configuration_of(defaults, dimensions), best_configuration, progress,
    )
    study.set_user_attr("choice", choice.to_json())
    study.set_user_attr("comparison", comparison.to_json())
    pruned = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.PRUNED,)))
    return TuneResult(request.strategy, study.study_name, storage, dict(chosen.params), best_configuration,
                      finished(), pruned, seconds, split, comparison, choice)


def saved_searches(storage: str) -> list[str]:
    """The names of the studies in `storage`, newest first."""
    import optuna

    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    return [summary.study_name for summary in sorted(summaries, key=lambda s: s.datetime_start or datetime.min, reverse=True)]


def load_search(storage: str, name: str) -> Any:
    """A stored study (`optuna.Study`), to plot its trials and read its held-out comparison."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=storage)


def _in_context(name: str, configuration: Configuration, ctx: LabContext) -> tuple[Any, LabContext]:
    strategy, settings = configured(name, configuration, ctx.settings)
    return strategy, replace(ctx, settings=settings)


def _answered(strategy: Any, ctx: LabContext, item: QAItem) -> ItemScores:
    started = time.perf_counter()
    answer = answer_or_error(strategy, strategy.name, item.question, ctx)
    return score_item(item, answer, time.perf_counter() - started, ctx.settings.top_k)


def _item_values(scores: list[ItemScores], request: TuneRequest) -> list[float | None]:
    """Each question's share of the objective, for the paired test of `choose_trial`."""
    if request.objective == "recall_at_k":
        return [s.recall_at_k for s in scores]
    return [s.answer_f1 * _budget_factor(scores, request) for s in scores]


def _objective_value(scores: list[ItemScores], request: TuneRequest) -> float:
    if request.objective == "recall_at_k":
        return _mean([s.recall_at_k for s in scores])
    return _mean([s.answer_f1 for s in scores]) * _budget_factor(scores, request)


def _budget_factor(scores: list[ItemScores], request: TuneRequest) -> float:
    """1, or for `f1_within_budget` budget / mean seconds when a configuration is slower than its budget."""
    seconds = _mean([s.seconds for s in scores])
    if request.objective != "f1_within_budget" or seconds <= 0:
        return 1.0
    return min(1.0, request.seconds_per_question / seconds)


def _mean(values: list[float | None]) -> float:
    scored = [value for value in values if value is not None]
    return sum(scored) / len(scored) if scored else 0.0


def _study_split(study: Any, qa_set: QASet, seed: int) -> QASplit:
    """The split made when the study began, read back on resume: a resumed search never sees other items."""
    stored = study.user_attrs.get("held_out_ids")
    split = split_qa_set(qa_set.items, seed)
    if stored is None:
        study.set_user_attr("held_out_ids", [item.item_id for item in split.held_out])
        study.set_user_attr("tuning_ids", [item.item_id for item in split.tuning])
        return split
    held_out = set(stored)
    return QASplit(tuple(i for i in qa_set.items if i.item_id not in held_out),
                   tuple(i for i in qa_set.items if i.item_id in held_out))


def _retry_trials_left_running(study: Any) -> None:
    """A trial left running by a killed process (this process holds the study's lock, so its owner is gone) is
    marked failed and its configuration tried again first."""
    import optuna

    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        study.enqueue_trial(trial.params)
        log.info("Trial %d was left running by a stopped search; its configuration is tried again", trial.number)


def _check(qa_set: QASet, request: TuneRequest) -> None:
    if request.strategy not in available_strategies():
        raise TuningError(f"No strategy {request.strategy!r}; known: {', '.join(available_strategies())}.")
    if request.objective not in OBJECTIVES:
        raise TuningError(f"No objective {request.objective!r}; choose one of {', '.join(OBJECTIVES)}.")
    if request.objective == "f1_within_budget" and not request.seconds_per_question:
        raise TuningError("The f1_within_budget objective needs a budget: pass --seconds-per-question S.")
    if request.trials is None and request.minutes is None:
        raise TuningError("Give the search an end: --trials N or --minutes M.")
    if len(qa_set.items) < 8:
        raise TuningError(
            f"{qa_set.path.name} holds {len(qa_set.items)} questions; a search needs at least 8 (some are held out "
            "to report on). Generate more with: raglab testset --kb KB --size 60"
        )

