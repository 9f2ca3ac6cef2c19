"""`raglab`: the command line. Every command's output shape is a contract other tools rely on."""

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer

import lab  # noqa: F401 - makes the process offline and silent before any model library loads
from app.cli_eval import list_runs, report, run_eval
from app.cli_kv import kv_lab
from app.exposure import LOOPBACK, ExposureRefused, arena_auth, exposure_warning
from app.cli_sweep import sweep
from app.cli_testset import make_testset
from app.cli_tune import tune_strategies
from app.cli_models import list_models
from app.cli_support import (
    AnswerModeOption,
    BackendOption,
    GeneratorKeyEnvOption,
    GeneratorOption,
    GeneratorUrlOption,
    HomeOption,
    HostOption,
    JsonFlag,
    KbOption,
    ProfileOption,
    fail,
    open_context,
    settings_from,
    tqdm_progress,
)

app = typer.Typer(add_completion=False, no_args_is_help=True, help="RAG Lab: compare RAG strategies on your corpus.")

REPO_ROOT = Path(__file__).resolve().parent.parent


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
    from lab.kb import KnowledgeBaseError

    settings = settings_from(home)
    bar, update = tqdm_progress(f"ingest {kb}")
    try:
        report = ingest_paths(settings, kb, paths, chunker_name=chunker, on_progress=update)
    except (KnowledgeBaseError, ValueError) as error:
        bar.close()
        fail(str(error))
    bar.close()
    for path, encoding in report.encodings.items():
        typer.echo(f"{path}: not UTF-8; read as {encoding}")
    for failure in report.failures:
        typer.secho(f"failed {failure.path}: {failure.reason}", fg=typer.colors.YELLOW, err=True)
    for skipped in report.skipped:
        typer.secho(f"left out {skipped.path}: {skipped.reason}", fg=typer.colors.YELLOW, err=True)
    typer.echo(
        f"{kb}: {len(report.indexed)} files indexed ({report.documents_added} documents, {report.chunks_added} chunks), "
        f"{len(report.unchanged)} unchanged, {len(report.failures)} failed, {len(report.skipped)} left out"
    )
    if not report.indexed and not report.unchanged:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question.")],
    kb: KbOption,
    strategy: Annotated[str, typer.Option("--strategy", help="Strategy name; see `raglab strategies`.")] = "traditional",
    profile: ProfileOption = None,
    as_json: JsonFlag = False,
    home: HomeOption = None,
    backend: BackendOption = None,
    generator: GeneratorOption = None,
    generator_url: GeneratorUrlOption = None,
    generator_key_env: GeneratorKeyEnvOption = None,
    answer_mode: AnswerModeOption = None,
) -> None:
    """Answer one question with one strategy and show its contexts and trace."""
    from app.running import EmptyQuestion, check_question
    from app.running import ask as run_ask
    from strategies import UnknownStrategy
    from eval.profiles import ProfileError, configured_strategy, tuned_keys

    settings = settings_from(home, backend, generator, generator_url, generator_key_env, answer_mode)
    try:
        check_question(question)
        key = tuned_keys([strategy], settings.home, profile)[0] if profile else strategy
        configured_strategy(key, settings)
    except (EmptyQuestion, UnknownStrategy, ProfileError) as error:
        fail(str(error))
    ctx = open_context(settings, kb)
    answer = run_ask(question, key, ctx)
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), indent=2))
        return
    from app.rendering import render_answer

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
    profile: Annotated[
        Optional[str], typer.Option("--profile", help="Beside each strategy this profile configures, run it tuned.")
    ] = None,
    as_json: JsonFlag = False,
    home: HomeOption = None,
    backend: BackendOption = None,
    generator: GeneratorOption = None,
    generator_url: GeneratorUrlOption = None,
    generator_key_env: GeneratorKeyEnvOption = None,
    answer_mode: AnswerModeOption = None,
) -> None:
    """Run several strategies on one question, on one loaded context, side by side."""
    from app.running import EmptyQuestion, check_question
    from app.running import compare as run_compare
    from strategies import UnknownStrategy, available_strategies, get_strategy
    from eval.profiles import ProfileError, beside_tuned

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
        settings = settings_from(home, backend, generator, generator_url, generator_key_env, answer_mode)
        names = beside_tuned(names, settings.home, profile) if profile else names
    except (EmptyQuestion, UnknownStrategy, ProfileError) as error:
        fail(str(error))
    ctx = open_context(settings, kb)
    bar, update = tqdm_progress("compare")
    answers = run_compare(question, names, ctx, on_progress=update)
    bar.close()
    if as_json:
        typer.echo(json.dumps([answer.to_dict() for answer in answers], indent=2))
    else:
        from app.rendering import comparison_table

        _console().print(comparison_table(answers))
    if all(answer.error for answer in answers):
        raise typer.Exit(1)


@app.command("strategies")
def list_strategies(as_json: JsonFlag = False) -> None:
    """List the strategies: name, idea, parameters with defaults and ranges, and stages."""
    from lab.core import describe_strategy
    from strategies import available_strategies

    described = [describe_strategy(strategy) for strategy in available_strategies().values()]
    if as_json:
        typer.echo(json.dumps(described, indent=2, default=str))
        return
    from app.rendering import strategies_table

    _console().print(strategies_table(described))


@app.command("graph")
def show_graph(
    kb: KbOption,
    entity: Annotated[Optional[str], typer.Option("--entity", help="Show this entity's neighbourhood.")] = None,
    as_json: JsonFlag = False,
    home: HomeOption = None,
) -> None:
    """Entity-graph stats of a knowledge base (nodes, edges, communities, top entities), or one entity's links."""
    from lab.graph import EntityExtractor, GraphCache, unread_chunk_count
    from lab.kb import KnowledgeBase, KnowledgeBaseError

    settings = settings_from(home)
    try:
        knowledge_base = KnowledgeBase.open(settings.home, kb)
    except KnowledgeBaseError as error:
        fail(str(error))
    path = knowledge_base.database_path
    knowledge_base.close()
    bar, update = tqdm_progress(f"graph {kb}") if unread_chunk_count(path) else (None, None)
    graph = GraphCache(EntityExtractor.load(settings.spacy_model)).graph(path, on_progress=update)
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
        fail(f"No entity like {entity!r} in the graph of {kb!r}; list the top entities with: raglab graph --kb {kb}")
    key = matches[0][0]
    neighbours = graph.neighbourhood(key)
    if as_json:
        typer.echo(json.dumps({"entity": graph.name(key), "key": key, "neighbours": neighbours,
                               "subgraph": graph.export([key])}, indent=2))
        return
    typer.echo(f"{graph.name(key)} ({graph.label(key)}): {len(graph.neighbours(key))} neighbours")
    for neighbour in neighbours:
        typer.echo(f"  {neighbour['weight']:5.1f}  {neighbour['link']}")


@app.command("kbs")
def list_kbs(home: HomeOption = None) -> None:
    """List the knowledge bases in the lab home."""
    from lab.kb import knowledge_base_names

    for name in knowledge_base_names(settings_from(home).home):
        typer.echo(name)


@app.command("lab")
def run_lab(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    host: HostOption = LOOPBACK,
    profile: Annotated[
        Optional[str], typer.Option("--profile", help="Tuned profile the Compare page runs beside the defaults.")
    ] = None,
    home: HomeOption = None,
    backend: BackendOption = None,
    generator: GeneratorOption = None,
    generator_url: GeneratorUrlOption = None,
    generator_key_env: GeneratorKeyEnvOption = None,
    answer_mode: AnswerModeOption = None,
) -> None:
    """Start the web lab (Streamlit) on this machine only, unless --host names another address."""
    from eval.profiles import ProfileError, load_profile

    settings = settings_from(home, backend, generator, generator_url, generator_key_env, answer_mode)
    if warning := exposure_warning(host, port, "web lab"):
        typer.secho(warning + " Streamlit has no login: put it behind an authenticating proxy.", fg=typer.colors.YELLOW,
                    err=True)
    os.environ["RAGLAB_HOME"] = str(settings.home)
    if profile:
        try:
            load_profile(settings.home, profile)
        except ProfileError as error:
            fail(str(error))
        os.environ["RAGLAB_PROFILE"] = profile
    command = [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "Home.py"),
        "--server.port", str(port), "--server.address", host, "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    serve_in_place(command)


@app.command("arena")
def run_arena(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 7860,
    host: HostOption = LOOPBACK,
    kb: Annotated[Optional[str], typer.Option("--kb", help="Knowledge base (default: the demo).")] = None,
    home: HomeOption = None,
) -> None:
    """Start the blind arena (Gradio): two hidden strategies, one vote, a leaderboard. Off loopback it
    needs RAGLAB_ARENA_PASSWORD."""
    settings = settings_from(home)
    try:
        arena_auth(host)
    except ExposureRefused as error:
        fail(str(error))
    if warning := exposure_warning(host, port, "arena"):
        typer.secho(warning, fg=typer.colors.YELLOW, err=True)
    os.environ["RAGLAB_HOME"] = str(settings.home)
    command = [sys.executable, "-m", "app.arena_app", "--port", str(port), "--host", host, *(["--kb", kb] if kb else [])]
    serve_in_place(command)


def serve_in_place(command: list[str]) -> NoReturn:
    """Become the server: a supervisor's SIGTERM to this pid then stops it, instead of orphaning a child on the port."""
    os.chdir(REPO_ROOT)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)


app.command("eval")(run_eval)
app.command("kv")(kv_lab)
app.command("sweep")(sweep)
app.command("testset")(make_testset)
app.command("tune")(tune_strategies)
app.command("models")(list_models)
app.command("report")(report)
app.command("runs")(list_runs)


if __name__ == "__main__":
    app()
