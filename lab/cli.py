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
    from lab.knowledge_base import KnowledgeBaseError
    from lab.models import ModelLoadError

    try:
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
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "app.py"),
        "--server.port", str(port), "--server.address", "localhost", "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]
    raise typer.Exit(subprocess.call(command, cwd=REPO_ROOT))
