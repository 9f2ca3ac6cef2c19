"""`raglab testset`: a QA set generated from a knowledge base, for `raglab eval --qa` (the Test set page
builds the same file)."""

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
    fail,
    open_context,
    settings_from,
    tqdm_progress,
)


def make_testset(
    kb: KbOption,
    size: Annotated[int, typer.Option("--size", min=1, max=2000, help="Items to keep.")] = 60,
    seed: Annotated[int, typer.Option("--seed", help="Same KB, seed and mix: same set.")] = 0,
    out: Annotated[
        Optional[Path], typer.Option("--out", help="JSONL file to write (default: HOME/testsets/KB-seedS.jsonl).")
    ] = None,
    mix: Annotated[
        Optional[str],
        typer.Option("--mix", help="Shares of each kind, e.g. single=0.5,yes_no=0.25,bridge=0.15,comparison=0.1."),
    ] = None,
    as_json: JsonFlag = False,
    home: HomeOption = None,
    backend: BackendOption = None,
    generator: GeneratorOption = None,
    generator_url: GeneratorUrlOption = None,
    generator_key_env: GeneratorKeyEnvOption = None,
    answer_mode: AnswerModeOption = None,
) -> None:
    """Generate a test set from the KB's own passages: questions of four kinds, each checked (answer span in
    its passage, not copied, not answerable closed-book, answered by the reader from its passages)."""
    from lab.testsets import MixError, GenerationRequest, build_testset, parse_mix, testset_path, write_testset

    settings = settings_from(home, backend, generator, generator_url, generator_key_env, answer_mode)
    try:
        request = GenerationRequest(size=size, seed=seed, mix=parse_mix(mix) if mix else GenerationRequest().mix)
    except MixError as error:
        fail(str(error))
    ctx = open_context(settings, kb)
    path = out or testset_path(settings.home, kb, seed)
    bar, update = tqdm_progress(f"testset {kb}")
    with bar:
        testset = build_testset(ctx, request, on_progress=update)
    write_testset(testset, path)
    summary = testset.summary(path)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    kinds = ", ".join(f"{count} {kind}" for kind, count in summary["kinds"].items())
    typer.echo(f"kept {summary['kept']} of {summary['drafted']} drafts ({kinds}) in {summary['seconds']} s")
    typer.echo("rejected: " + ", ".join(f"{reason} {count}" for reason, count in summary["rejected"].items()))
    if summary["kept"] < size:
        typer.secho(
            f"only {summary['kept']} of {size} items passed the checks: the knowledge base has too few facts the "
            "rules can ask about; ingest more documents, or ask for a smaller --size.",
            fg=typer.colors.YELLOW, err=True,
        )
    typer.echo(f"wrote {path}; evaluate with: raglab eval --qa {path} --kb {kb}")
