"""`raglab tune`: search each strategy's configuration on part of a QA set, report on the part it never saw,
and save the best as a profile (`--profile` on ask, compare, eval and lab)."""

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


def tune_strategies(
    qa: Annotated[Path, typer.Option("--qa", help="QA file to tune on, e.g. one `raglab testset` wrote.")],
    kb: KbOption,
    strategies: Annotated[str, typer.Option("--strategies", help="Comma-separated strategies to tune.")] = "traditional",
    trials: Annotated[Optional[int], typer.Option("--trials", min=1, help="Finished trials per strategy.")] = None,
    minutes: Annotated[Optional[float], typer.Option("--minutes", min=0.1, help="Search time per strategy.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the split and the sampler: same seed, same search.")] = 0,
    objective: Annotated[
        str, typer.Option("--objective", help="answer_f1, recall_at_k, or f1_within_budget (with --seconds-per-question).")
    ] = "answer_f1",
    seconds_per_question: Annotated[
        Optional[float], typer.Option("--seconds-per-question", min=0.01, help="Time budget of f1_within_budget.")
    ] = None,
    storage: Annotated[
        Optional[str],
        typer.Option("--storage", help="Optuna database URL several machines share (default: HOME/tuning/studies.sqlite3)."),
    ] = None,
    profile: Annotated[Optional[str], typer.Option("--profile", help="Save the best as this profile (default: the KB's name).")] = None,
    as_json: JsonFlag = False,
    home: HomeOption = None,
    backend: BackendOption = None,
    generator: GeneratorOption = None,
    generator_url: GeneratorUrlOption = None,
    generator_key_env: GeneratorKeyEnvOption = None,
    answer_mode: AnswerModeOption = None,
) -> None:
    """Tune strategies for a knowledge base: a seeded Optuna search over their parameters, top_k and answer_mode
    on a tuning part of the QA set, then the best against the defaults on the held-out part. Run it again to
    resume a stopped search."""
    from eval.qa_sets import QASetError, load_qa_set
    from eval.tuning import TuneRequest, TuningBusy, TuningError, tune
    from eval.profiles import ProfileError, check_profile_name, save_profile

    settings = settings_from(home, backend, generator, generator_url, generator_key_env, answer_mode)
    names = [name.strip() for name in strategies.split(",") if name.strip()]
    try:
        qa_set = load_qa_set(qa)
        profile_name = check_profile_name(profile or kb)
    except (QASetError, ProfileError) as error:
        fail(str(error))
    ctx = open_context(settings, kb)
    results = []
    for name in names:
        request = TuneRequest(name, trials if trials or minutes else 20, minutes, seed, objective, seconds_per_question, storage)
        bar, update = tqdm_progress(f"tune {name}")
        try:
            result = tune(ctx, qa_set, request, on_progress=update)
        except (TuningError, TuningBusy) as error:
            bar.close()
            fail(str(error))
        except KeyboardInterrupt:
            bar.close()
            typer.secho("interrupted; every finished trial is stored. Run the same command to resume.", err=True)
            raise typer.Exit(130)
        bar.close()
        saved = save_profile(settings.home, profile_name, name, result.best_configuration, result.provenance(kb, qa_set))
        results.append({**result.to_json(), "profile": profile_name})
        if not as_json:
            _print_result(result, profile_name, saved)
    if as_json:
        typer.echo(json.dumps(results, indent=2))


def _print_result(result, profile_name: str, saved: Path) -> None:
    comparison = result.comparison
    typer.echo(f"{result.strategy}: {result.trials} trials ({result.pruned} pruned) in {result.seconds / 60:.1f} min, "
               f"on {len(result.split.tuning)} questions; held out: {len(result.split.held_out)}")
    for label, figures in (("defaults", comparison.default), ("tuned", comparison.tuned)):
        f1, recall = figures.answer_f1, figures.recall_at_k
        typer.echo(f"  {label:9} F1 {f1.mean:.3f} [{f1.low:.3f}, {f1.high:.3f}]   "
                   f"recall@k {recall.mean:.3f} [{recall.low:.3f}, {recall.high:.3f}]   {figures.seconds_per_question:.1f} s/question")
    typer.echo(f"  {result.choice.reason}")
    typer.echo(f"  {comparison.verdict}")
    typer.echo(f"  best: {json.dumps(result.best_values)}")
    typer.echo(f"  saved to profile {profile_name!r} ({saved}); use it with: raglab ask \"…\" --strategy "
               f"{result.strategy} --profile {profile_name}")
