"""`raglab sweep`: the chunking study from the command line (the Evaluate page runs the same study)."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from app.cli_support import HomeOption, JsonFlag, fail, settings_from, tqdm_progress


def sweep(
    qa: Annotated[Path, typer.Option("--qa", help="QA file: HotpotQA .json, or .jsonl/.csv with question, reference.")],
    docs: Annotated[list[Path], typer.Option("--docs", help="Documents to chunk (files or folders; repeat the option).")],
    chunkers: Annotated[str, typer.Option("--chunkers", help="Comma-separated chunkers.")] = "fixed,semantic,recursive,structure,llm",
    strategies: Annotated[str, typer.Option("--strategies", help="Comma-separated strategies.")] = "traditional,hybrid,graph",
    metrics: Annotated[str, typer.Option("--metrics", help="Metric groups or names.")] = "retrieval,answer",
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Only the first N questions.")] = None,
    run_id: Annotated[Optional[str], typer.Option("--run-id", help="Resume this study, or name a new one.")] = None,
    as_json: JsonFlag = False,
    home: HomeOption = None,
) -> None:
    """Chunking study: one KB per chunker from the same documents (cached), every strategy on each, one run."""
    from eval.evaluation import RunMismatch
    from eval.qa_sets import QASetError, load_qa_set
    from eval.run_analysis import analyze_run
    from eval.run_store import RunStore, RunStoreError, run_store_path
    from eval.scoring import UnknownMetric, resolve_metrics
    from eval.sweep import chunker_table, run_study, study_rows
    from lab.core import ModelLoadError
    from lab.core import resolve_placement
    from lab.kb import CHUNKER_NAMES, KnowledgeBaseError, load_embedder
    from lab.llm import load_generator
    from strategies import UnknownStrategy, get_strategy

    settings = settings_from(home)
    chunker_names = [name.strip() for name in chunkers.split(",") if name.strip()]
    unknown = [name for name in chunker_names if name not in CHUNKER_NAMES]
    if unknown or not chunker_names:
        fail(f"--chunkers names {', '.join(unknown) or 'nothing'}; choose from {', '.join(CHUNKER_NAMES)}")
    missing = [str(path) for path in docs if not path.exists()]
    if missing:
        fail(f"--docs names paths that do not exist: {', '.join(missing)}")
    strategy_names = [name.strip() for name in strategies.split(",") if name.strip()]
    try:
        for name in strategy_names:
            get_strategy(name)
        metric_names = resolve_metrics(metrics)
        qa_set = load_qa_set(qa, limit=limit)
    except (UnknownStrategy, UnknownMetric, QASetError) as error:
        fail(str(error))
    try:
        placement = resolve_placement(settings)
        embedder, generator = load_embedder(settings, placement), load_generator(settings, placement)
    except ModelLoadError as error:
        fail(str(error))
    store = RunStore(run_store_path(settings.home))
    bar, update = tqdm_progress("chunking study")
    try:
        outcome, builds = run_study(settings, embedder, generator, qa_set, docs, chunker_names, strategy_names,
                                    metric_names, store, run_id, on_progress=update)
    except (RunMismatch, RunStoreError, KnowledgeBaseError) as error:
        bar.close()
        fail(str(error))
    except KeyboardInterrupt:
        bar.close()
        typer.secho("interrupted; every finished answer is stored. Resume with --run-id RUN_ID (see `raglab runs`).", err=True)
        raise typer.Exit(130)
    bar.close()
    for build in builds:
        for path, reason in build.failures:
            typer.secho(f"warning: {build.chunker}: {path}: {reason}", fg=typer.colors.YELLOW, err=True)
    analysis = analyze_run(store, outcome.run_id, seed=settings.seed)
    table = chunker_table(analysis, seed=settings.seed)
    if as_json:
        typer.echo(json.dumps({
            "run_id": outcome.run_id, "rows": study_rows(analysis),
            "chunkers": [{"chunker": row.chunker, **row.build, "figures": row.figures, "verdict": row.verdict} for row in table],
        }, indent=2))
        return
    typer.echo(f"study {outcome.run_id}: {outcome.items} questions × {len(analysis.strategies)} (chunker, strategy) pairs")
    for row in table:
        figures = "  ".join(f"{name} {f['mean']:.3f} [{f['low']:.3f}, {f['high']:.3f}]" for name, f in row.figures.items()
                            if f["mean"] is not None)
        reused = " (reused)" if row.build.get("reused") else ""
        typer.echo(f"{row.chunker}{reused}: {row.build['chunks']} chunks, {row.build['mean_tokens']:.0f} tokens mean, "
                   f"ingest {row.build['ingest_s']:.1f} s  {figures}\n  {row.verdict}")
    typer.echo(f"report: raglab report {outcome.run_id} --format html --out study.html")
