"""`raglab`: the command line. Every command's output shape is a contract other tools rely on."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

import lab  # noqa: F401 - makes the process offline and silent before any model library loads

app = typer.Typer(add_completion=False, no_args_is_help=True, help="RAG Lab: compare RAG strategies on your corpus.")

HomeOption = Annotated[
    Optional[Path], typer.Option("--home", help="Lab home holding knowledge bases (default ~/.raglab or RAGLAB_HOME).")
]
KbOption = Annotated[str, typer.Option("--kb", help="Knowledge base name.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
REPO_ROOT = Path(__file__).resolve().parent.parent


def _settings(home: Path | None):
    from lab.settings import LabSettings

    if home is not None:
        os.environ["RAGLAB_HOME"] = str(home.expanduser().resolve())
    return LabSettings()


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def _tqdm_progress(description: str):
    from tqdm import tqdm

    bar = tqdm(total=100, desc=description, file=sys.stderr, bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")

    def update(fraction: float, message: str) -> None:
        bar.n = round(fraction * 100)
        bar.set_postfix_str(message, refresh=True)

    return bar, update


def _context(settings, kb: str):
    from lab.context import build_context
    from lab.ingestion import DEMO_FILE, build_demo_kb, demo_kb_missing
    from lab.knowledge_base import KnowledgeBaseError
    from lab.models import ModelLoadError

    try:
        if demo_kb_missing(settings, kb):
            bar, update = _tqdm_progress(f"first use: build {kb} from {DEMO_FILE.name}")
            with bar:
                build_demo_kb(settings, on_progress=update)
        return build_context(settings, kb)
    except (KnowledgeBaseError, ModelLoadError) as error:
        _fail(str(error))


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders: .txt .md .html .pdf .json .jsonl")],
    kb: KbOption,
    chunker: Annotated[Optional[str], typer.Option("--chunker", help="recursive, fixed, semantic, structure or llm.")] = None,
    home: HomeOption = None,
) -> None:
    """Add files to a knowledge base (created if needed). Unchanged files are skipped."""
    from lab.ingestion import ingest_paths
    from lab.knowledge_base import KnowledgeBaseError

    settings = _settings(home)
    bar, update = _tqdm_progress(f"ingest {kb}")
    try:
        report = ingest_paths(settings, kb, paths, chunker_name=chunker, on_progress=update)
    except (KnowledgeBaseError, ValueError) as error:
        bar.close()
        _fail(str(error))
    bar.close()
    for failure in report.failures:
        typer.secho(f"skipped {failure.path}: {failure.reason}", fg=typer.colors.YELLOW, err=True)
    typer.echo(
        f"{kb}: {len(report.indexed)} files indexed ({report.documents_added} documents, {report.chunks_added} chunks), "
        f"{len(report.unchanged)} unchanged, {len(report.failures)} failed"
    )
    if not report.indexed and not report.unchanged:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    kb: KbOption,
    strategy: Annotated[str, typer.Option("--strategy", help="Strategy name; see `raglab strategies`.")] = "traditional",
    as_json: JsonFlag = False,
    home: HomeOption = None,
) -> None:
    """Answer one question with one strategy and show its contexts and trace."""
    from lab.running import EmptyQuestion, ask as run_ask, check_question
    from strategies import UnknownStrategy, get_strategy

    try:
        check_question(question)
        get_strategy(strategy)
    except (EmptyQuestion, UnknownStrategy) as error:
        _fail(str(error))
    ctx = _context(_settings(home), kb)
    answer = run_ask(question, strategy, ctx)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), indent=2))
        return
    from lab.rendering import render_answer

    typer.echo(render_answer(answer))


def _console():
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else Console(width=160)


@app.command()
def compare(
    question: Annotated[str, typer.Argument(help="The question.")],
    kb: KbOption,
    strategies: Annotated[
        str, typer.Option("--strategies", help="Comma-separated strategy names, or 'all'; see `raglab strategies`.")
    ] = "all",
    as_json: JsonFlag = False,
    home: HomeOption = None,
) -> None:
    """Run several strategies on one question, on one loaded context, side by side."""
    from lab.running import EmptyQuestion, check_question, compare as run_compare
    from strategies import UnknownStrategy, available_strategies, get_strategy

    if strategies.strip().lower() == "all":
        names = list(available_strategies())
    else:
        names = list(dict.fromkeys(name.strip() for name in strategies.split(",") if name.strip()))
    try:
        check_question(question)
        if not names:
            raise UnknownStrategy(f"--strategies names no strategy; pass 'all' or some of: {', '.join(available_strategies())}")
        for name in names:
            get_strategy(name)
    except (EmptyQuestion, UnknownStrategy) as error:
        _fail(str(error))
    ctx = _context(_settings(home), kb)
    bar, update = _tqdm_progress("compare")
    answers = run_compare(question, names, ctx, on_progress=update)
    bar.close()
    if as_json:
        typer.echo(json.dumps([answer.to_dict() for answer in answers], indent=2))
    else:
        from lab.rendering import comparison_table

        _console().print(comparison_table(answers))
    if all(answer.error for answer in answers):
        raise typer.Exit(1)


@app.command("strategies")
def list_strategies(as_json: JsonFlag = False) -> None:
    """List the strategies: name, idea, parameters with defaults and ranges, and stages."""
    from lab.parameters import describe_strategy
    from strategies import available_strategies

    described = [describe_strategy(strategy) for strategy in available_strategies().values()]
    if as_json:
        typer.echo(json.dumps(described, indent=2, default=str))
        return
    from lab.rendering import strategies_table

    _console().print(strategies_table(described))


@app.command("graph")
def show_graph(
    kb: KbOption,
    entity: Annotated[Optional[str], typer.Option("--entity", help="Show this entity's neighbourhood.")] = None,
    as_json: JsonFlag = False,
    home: HomeOption = None,
) -> None:
    """Entity-graph stats of a knowledge base (nodes, edges, communities, top entities), or one entity's links."""
    from lab.entity_graph import open_graph
    from lab.graph_store import unread_chunk_count
    from lab.knowledge_base import KnowledgeBase, KnowledgeBaseError

    settings = _settings(home)
    try:
        knowledge_base = KnowledgeBase.open(settings.home, kb)
    except KnowledgeBaseError as error:
        _fail(str(error))
    path = knowledge_base.store.path
    knowledge_base.close()
    bar, update = _tqdm_progress(f"graph {kb}") if unread_chunk_count(path) else (None, None)
    graph = open_graph(path, settings.spacy_model, on_progress=update)
    if bar is not None:
        bar.close()
    if entity is None:
        stats = graph.stats()
        if as_json:
            typer.echo(json.dumps(stats, indent=2))
            return
        typer.echo(
            f"{kb}: {stats['nodes']} entities, {stats['edges']} edges ({stats['relations']} relations), "
            f"{stats['communities']} communities, from {stats['chunks']} chunks"
        )
        for top in stats["top_entities"]:
            typer.echo(f"  {top['weighted_degree']:7.1f}  {top['name']} ({top['label']})")
        return
    matches = graph.find(entity)
    if not matches:
        _fail(f"No entity like {entity!r} in the graph of {kb!r}; list the top entities with: raglab graph --kb {kb}")
    key = matches[0][0]
    neighbours = graph.neighbourhood(key)
    if as_json:
        typer.echo(json.dumps({"entity": graph.name(key), "key": key, "neighbours": neighbours,
                               "subgraph": graph.export([key])}, indent=2))
        return
    typer.echo(f"{graph.name(key)} ({graph.graph.nodes[key]['label']}): {graph.graph.degree(key)} neighbours")
    for neighbour in neighbours:
        typer.echo(f"  {neighbour['weight']:5.1f}  {neighbour['link']}")


@app.command("kbs")
def list_kbs(home: HomeOption = None) -> None:
    """List the knowledge bases in the lab home."""
    from lab.knowledge_base import knowledge_base_names

    for name in knowledge_base_names(_settings(home).home):
        typer.echo(name)


@app.command("lab")
def run_lab(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    home: HomeOption = None,
) -> None:
    """Start the web lab (Streamlit) on localhost."""
    settings = _settings(home)
    os.environ["RAGLAB_HOME"] = str(settings.home)
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "Home.py"),
        "--server.port", str(port), "--server.address", "localhost", "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    raise typer.Exit(subprocess.call(command, cwd=REPO_ROOT))


@app.command("arena")
def run_arena(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 7860,
    kb: Annotated[Optional[str], typer.Option("--kb", help="Knowledge base (default: the demo).")] = None,
    home: HomeOption = None,
) -> None:
    """Start the blind arena (Gradio) on localhost: two hidden strategies, one vote, a leaderboard."""
    settings = _settings(home)
    os.environ["RAGLAB_HOME"] = str(settings.home)
    command = [sys.executable, str(REPO_ROOT / "arena_app.py"), "--port", str(port), *(["--kb", kb] if kb else [])]
    raise typer.Exit(subprocess.call(command, cwd=REPO_ROOT))


def _strategy_names(spec: str) -> list[str]:
    from strategies import UnknownStrategy, available_strategies, get_strategy

    known = list(available_strategies())
    names = known if spec.strip().lower() == "all" else list(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    if not names:
        raise UnknownStrategy(f"--strategies names no strategy; pass 'all' or some of: {', '.join(known)}")
    for name in names:
        get_strategy(name)
    return names


@app.command("eval")
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
    as_json: JsonFlag = False,
    home: HomeOption = None,
) -> None:
    """Run strategies over a QA set, score every answer, and store it all in the run store (resumable)."""
    from eval.evaluation import RunMismatch, evaluate
    from eval.qa_sets import QASetError, build_kb_from_qa_set, load_qa_set
    from eval.run_analysis import analyze_run
    from eval.run_store import RunStore, RunStoreError, run_store_path
    from eval.scoring import UnknownMetric, resolve_metrics
    from lab.knowledge_base import KnowledgeBaseError
    from strategies import UnknownStrategy

    settings = _settings(home)
    try:
        qa_set = load_qa_set(qa, limit=limit)
        metric_names = resolve_metrics(metrics)
        names = _strategy_names(strategies)
    except (QASetError, UnknownMetric, UnknownStrategy) as error:
        _fail(str(error))
    if build_kb:
        bar, update = _tqdm_progress(f"build {kb}")
        try:
            build_kb_from_qa_set(settings, kb, qa_set, on_progress=update)
        except (QASetError, KnowledgeBaseError) as error:
            bar.close()
            _fail(str(error))
        bar.close()
    ctx = _context(settings, kb)
    store = RunStore(run_store_path(settings.home))
    resume = f"raglab eval --qa {qa} --kb {kb} --run-id "

    def announce(run, already_done: int) -> None:
        expected = run.item_count * len(run.strategies)
        typer.echo(
            f"run {run.run_id}: {run.item_count} items × {len(run.strategies)} strategies, {already_done} of "
            f"{expected} already stored; resume with: {resume}{run.run_id}",
            err=True,
        )

    bar, update = _tqdm_progress("eval")
    try:
        outcome = evaluate(ctx, qa_set, names, metric_names, store, run_id=run_id, on_progress=update, on_start=announce)
    except (RunMismatch, RunStoreError) as error:
        bar.close()
        _fail(str(error))
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


@app.command("report")
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

    settings = _settings(home)
    store = RunStore(run_store_path(settings.home))
    try:
        written = write_report(analyze_run(store, run_id, seed=settings.seed), report_format, out or Path(f"{run_id}.{report_format}"))
    except (RunStoreError, UnknownReportFormat) as error:
        _fail(str(error))
    typer.echo(str(written))


@app.command("runs")
def list_runs(as_json: JsonFlag = False, home: HomeOption = None) -> None:
    """List evaluation runs, newest first: items, strategies, results stored and errors."""
    from eval.run_store import RunStore, run_store_path

    summaries = RunStore(run_store_path(_settings(home).home)).summaries()
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


if __name__ == "__main__":
    app()
