"""`raglab kv`: the KV-cache lab from the command line (the same experiments as the KV cache page)."""

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from app.cli_support import (
    BackendOption, GeneratorOption, HomeOption, JsonFlag, fail, open_context, settings_from, tqdm_progress,
)

COLUMNS = ("experiment", "mode", "label", "context_tokens", "new_tokens", "kv_bytes_measured", "kv_bytes_theory",
           "ms", "tokens_per_s", "agreement")


def _numbers(spec: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in spec.split(",") if part.strip())
    except ValueError:
        fail(f"{option} takes comma-separated whole numbers, e.g. 32,64,128; got {spec!r}")
    if not values or min(values) < 1:
        fail(f"{option} needs at least one number above 0; got {spec!r}")
    return values


def kv_lab(
    kb: Annotated[str, typer.Option("--kb", help="Knowledge base the prompts come from (a bundled demo builds on first use).")] = "demo",
    qa: Annotated[
        Optional[Path], typer.Option("--qa", help="QA file whose questions make the prompts (default: the bundled demo's).")
    ] = None,
    new_tokens: Annotated[str, typer.Option("--new-tokens", help="Cache on/off: tokens to generate.")] = "32,64,128",
    contexts: Annotated[str, typer.Option("--contexts", help="Memory: prompt lengths in tokens.")] = "128,512,1024,2048",
    questions: Annotated[int, typer.Option("--questions", min=1, help="Cache modes: questions to compare answers on.")] = 4,
    strategies: Annotated[
        str, typer.Option("--strategies", help="Prefix reuse: strategies whose calls are replayed.")
    ] = "traditional,hyde,agentic,self-rag",
    quick: Annotated[bool, typer.Option("--quick", help="The smallest sizes (about a minute), for a first look.")] = False,
    as_json: JsonFlag = False,
    home: HomeOption = None,
    backend: BackendOption = None,
    generator: GeneratorOption = None,
) -> None:
    """Measure the KV cache: on vs off, memory against context, cache modes, theory for named models, prefix reuse."""
    from app.kv_lab import QUICK_PLAN, KVPlan, measuring_generator, run_kv_lab
    from strategies import UnknownStrategy, get_strategy

    names = tuple(name.strip() for name in strategies.split(",") if name.strip())
    try:
        for name in names:
            get_strategy(name)
    except UnknownStrategy as error:
        fail(str(error))
    plan = QUICK_PLAN if quick else KVPlan(
        new_tokens=_numbers(new_tokens, "--new-tokens"), contexts=_numbers(contexts, "--contexts"),
        mode_questions=questions, prefix_strategies=names,
    )
    settings = settings_from(home, backend, generator)
    question_texts = _questions(kb, qa, max(plan.mode_questions, plan.prefix_questions))
    ctx = open_context(settings, kb)
    bar, update = tqdm_progress("KV-cache lab")
    with bar:
        report = run_kv_lab(ctx, measuring_generator(ctx), question_texts, plan, on_progress=update)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    typer.echo("  ".join(COLUMNS))
    for row in report.rows:
        values = row.to_dict()
        typer.echo("  ".join(_cell(values[column]) for column in COLUMNS))
    typer.echo("")
    for line in report.findings:
        typer.echo(f"- {line}")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 1000 else f"{value:.0f}"
    return str(value)


def _questions(kb: str, qa: Path | None, count: int) -> list[str]:
    from eval.qa_sets import QASetError, load_qa_set
    from lab.ingestion import BUNDLED_DEMOS

    if qa is None:
        if kb not in BUNDLED_DEMOS:
            fail(f"--kb {kb} is not a bundled demo, so name the questions to prompt with: --qa FILE (.jsonl/.csv/.json)")
        qa = BUNDLED_DEMOS[kb].questions
    try:
        return [item.question for item in load_qa_set(qa, limit=count).items]
    except QASetError as error:
        fail(str(error))
