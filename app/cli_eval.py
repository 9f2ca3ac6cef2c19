"""`raglab eval`, `report` and `runs`: evaluation from the command line; `app.cli` registers them."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from app.cli_support import (
    AnswerModeOption,
    BackendOption,
    GeneratorKeyEnvOption,
    GeneratorOption,
    GeneratorUrlOption,
    HomeOption,
    JsonFlag,
    KbOption,
    ProfileOption,
    fail,
    open_context,
    settings_from,
    tqdm_progress,
)


def strategy_names(spec: str) -> list[str]:
    """Names from --strategies; `NAME@KV_MODE` runs NAME with the generator's cache in that mode (transformers backend),
    `NAME:PROFILE` with the configuration saved in that profile."""
    from strategies import UnknownStrategy, available_strategies, get_strategy, split_kv_variant, split_profile

    known = list(available_strategies())
    names = known if spec.strip().lower() == "all" else list(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    if not names:
        raise UnknownStrategy(f"--strategies names no strategy; pass 'all' or some of: {', '.join(known)}")
    for name in names:
        get_strategy(split_profile(split_kv_variant(name)[0])[0])
    return names


def run_eval(
    qa: Annotated[Path, typer.Option("--qa", help="QA file: HotpotQA .json, or .jsonl/.csv with question, reference.")],
    kb: KbOption,
    strategies: Annotated[str, typer.Option("--strategies", help="Comma-separated strategy names, or 'all'.")] = "all",
    metrics: Annotated[
        str,
        typer.Option(
            "--metrics",
            help="Comma-separated groups (default, all, retrieval, answer, ragas, llm) or metric names. "
            "'default' is everything but the LLM-judged ragas metrics.",
        ),
    ] = "default",
    run_id: Annotated[Optional[str], typer.Option("--run-id", help="Resume this run, or name a new one.")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N questions.")] = None,
    build_kb: Annotated[bool, typer.Option("--build-kb", help="First index the QA file's own paragraphs into --kb.")] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=64, help="Answers in flight at once with a server backend.")
    ] = 8,
    profile: ProfileOption = None,
    as_json: JsonFlag = False,
    home: HomeOption = None,
    backend: BackendOption = None,
    generator: GeneratorOption = None,
    generator_url: GeneratorUrlOption = None,
    generator_key_env: GeneratorKeyEnvOption = None,
    answer_mode: AnswerModeOption = None,
) -> None:
    """Run strategies over a QA set, score every answer, and store it all in the run store (resumable)."""
    from eval.evaluation import RunMismatch, evaluate
    from eval.qa_sets import QASetError, build_kb_from_qa_set, load_qa_set
    from eval.run_analysis import analyze_run
    from eval.run_store import RunStore, RunStoreError, run_store_path
    from eval.scoring import UnknownMetric, resolve_metrics
    from lab.kb import KnowledgeBaseError
    from strategies import UnknownStrategy
    from eval.profiles import ProfileError, tuned_keys

    settings = settings_from(home, backend, generator, generator_url, generator_key_env, answer_mode)
    try:
        qa_set = load_qa_set(qa, limit=limit)
        metric_names = resolve_metrics(metrics)
        names = strategy_names(strategies)
        names = tuned_keys(names, settings.home, profile) if profile else names
    except (QASetError, UnknownMetric, UnknownStrategy, ProfileError) as error:
        fail(str(error))
    if build_kb:
        bar, update = tqdm_progress(f"build {kb}")
        try:
            build_kb_from_qa_set(settings, kb, qa_set, on_progress=update)
        except (QASetError, KnowledgeBaseError) as error:
            bar.close()
            fail(str(error))
        bar.close()
    ctx = open_context(settings, kb)
    store = RunStore(run_store_path(settings.home))
    resume = f"raglab eval --qa {qa} --kb {kb} --run-id "

    def announce(run, already_done: int) -> None:
        expected = run.item_count * len(run.strategies)
        typer.echo(
            f"run {run.run_id}: {run.item_count} items × {len(run.strategies)} strategies, {already_done} of "
            f"{expected} already stored; resume with: {resume}{run.run_id}",
            err=True,
        )

    bar, update = tqdm_progress("eval")
    try:
        outcome = evaluate(
            ctx, qa_set, names, metric_names, store, run_id=run_id, on_progress=update, on_start=announce,
            concurrency=concurrency,
        )
    except (RunMismatch, RunStoreError) as error:
        bar.close()
        fail(str(error))
    except KeyboardInterrupt:
        bar.close()
        typer.secho("interrupted; every finished answer is stored. Resume with the command printed above.", err=True)
        raise typer.Exit(130)
    bar.close()
    if outcome.judge_problem:
        typer.secho(f"warning: {outcome.judge_problem}", fg=typer.colors.YELLOW, err=True)
    means = analyze_run(store, outcome.run_id, seed=settings.seed).means()
    if as_json:
        typer.echo(json.dumps({"run_id": outcome.run_id, "items": outcome.items, "strategies": means}, indent=2))
    else:
        metric_order = list(next(iter(means.values()), {}))
        typer.echo(f"run {outcome.run_id}: {outcome.items} items, {outcome.computed} answers computed now, {outcome.errors} errors")
        typer.echo("metric".ljust(42) + "".join(name[:14].rjust(15) for name in means))
        for metric in metric_order:
            cells = "".join(("–" if v is None else f"{v:.3f}").rjust(15) for v in (means[s][metric] for s in means))
            typer.echo(metric.ljust(42) + cells)
        typer.echo(f"report: raglab report {outcome.run_id} --format html --out report.html")
    if outcome.unreachable:
        typer.secho(
            f"warning: {outcome.unreachable} answers failed because the generator could not be reached; they are "
            f"stored as failed. When it is back, finish the run with: {resume}{outcome.run_id}",
            fg=typer.colors.YELLOW, err=True,
        )
        raise typer.Exit(1)


def report(
    run_id: Annotated[str, typer.Argument(help="A run id; see `raglab runs`.")],
    report_format: Annotated[str, typer.Option("--format", help="html, md or csv.")] = "html",
    out: Annotated[Optional[Path], typer.Option("--out", help="Output file (default RUN_ID.FORMAT).")] = None,
    home: HomeOption = None,
) -> None:
    """Write a stored run's report: self-contained HTML with charts, Markdown, or per-item CSV."""
    from eval.reports import UnknownReportFormat, write_report
    from eval.run_analysis import analyze_run
    from eval.run_store import RunStore, RunStoreError, run_store_path

    settings = settings_from(home)
    store = RunStore(run_store_path(settings.home))
    try:
        written = write_report(analyze_run(store, run_id, seed=settings.seed), report_format, out or Path(f"{run_id}.{report_format}"))
    except (RunStoreError, UnknownReportFormat) as error:
        fail(str(error))
    typer.echo(str(written))


def list_runs(as_json: JsonFlag = False, home: HomeOption = None) -> None:
    """List evaluation runs, newest first: items, strategies, results stored and errors."""
    from eval.run_store import RunStore, run_store_path

    summaries = RunStore(run_store_path(settings_from(home).home)).summaries()
    rows = [
        {
            "run_id": s.run.run_id, "created_at": s.run.created_at, "kb": s.run.kb, "qa": Path(s.run.qa_path).name,
            "items": s.run.item_count, "strategies": list(s.run.strategies),
            "results": s.results_done, "expected": s.run.item_count * len(s.run.strategies), "errors": s.errors,
        }
        for s in summaries
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(
            f"{r['run_id']}  {r['created_at']}  {r['kb']}  {r['qa']}  {r['items']} items × {len(r['strategies'])} strategies  "
            f"{r['results']}/{r['expected']} stored  {r['errors']} errors"
        )
