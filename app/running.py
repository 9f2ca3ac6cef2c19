"""Running strategies on a question: one at a time or side by side, never letting one failure stop the rest."""

import logging
from collections.abc import Callable, Sequence

from lab.context import LabContext
from lab.core import Answer, Trace
from strategies import get_strategy

log = logging.getLogger(__name__)


class EmptyQuestion(ValueError):
    pass


def check_question(question: str) -> str:
    if not question or not question.strip():
        raise EmptyQuestion("The question is empty; type a question, e.g. raglab ask \"Who directed Ed Wood?\" --kb demo")
    return question.strip()


def ask(question: str, strategy_name: str, ctx: LabContext) -> Answer:
    answer = get_strategy(strategy_name).answer(check_question(question), ctx)
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
    strategies = [get_strategy(name) for name in strategy_names]
    answers = []
    for position, strategy in enumerate(strategies):
        if on_progress:
            on_progress(position / len(strategies), f"running {strategy.name}")
        try:
            answers.append(strategy.answer(question, ctx))
        except Exception as error:  # one failing strategy must not abort the comparison
            log.exception("Strategy %s failed", strategy.name)
            answers.append(Answer(strategy.name, "", (), Trace(), error=f"{type(error).__name__}: {error}"))
        answers[-1].trace.generator = ctx.generator.describe()
    if on_progress:
        on_progress(1.0, "done")
    return answers
