"""Running strategies on a question: one at a time or side by side, never letting one failure stop the rest."""

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from lab.context import LabContext
from lab.core import Answer, Trace
from eval.profiles import configured_strategy, display_name

log = logging.getLogger(__name__)


class EmptyQuestion(ValueError):
    pass


def check_question(question: str) -> str:
    if not question or not question.strip():
        raise EmptyQuestion("The question is empty; type a question, e.g. raglab ask \"Who directed Ed Wood?\" --kb demo")
    return question.strip()


def ask(question: str, strategy_name: str, ctx: LabContext) -> Answer:
    """`strategy_name` may name a profile's configuration (`graph:my-kb`); the answer is labelled with it."""
    strategy, settings = configured_strategy(strategy_name, ctx.settings)
    answer = strategy.answer(check_question(question), replace(ctx, settings=settings))
    answer = replace(answer, strategy=display_name(strategy_name))
    answer.trace.generator = ctx.generator.describe()
    return answer


def compare(
    question: str,
    strategy_names: Sequence[str],
    ctx: LabContext,
    on_progress: Callable[[float, str], None] | None = None,
) -> list[Answer]:
    """Every strategy on the same question and context; a strategy that raises gets its error in its row."""
    question = check_question(question)
    answers = []
    for position, name in enumerate(strategy_names):
        if on_progress:
            on_progress(position / len(strategy_names), f"running {display_name(name)}")
        try:
            answers.append(ask(question, name, ctx))
        except Exception as error:  # one failing strategy must not abort the comparison
            log.exception("Strategy %s failed", name)
            answers.append(Answer(display_name(name), "", (), Trace(), error=f"{type(error).__name__}: {error}"))
            answers[-1].trace.generator = ctx.generator.describe()
    if on_progress:
        on_progress(1.0, "done")
    return answers
