"""Reflection and self-verification: is the evidence enough, and is the drafted answer supported by it.

After the planned sub-questions the loop asks whether the passages suffice (the generator judges, with the
coverage of the named entities' pages as the fallback); at the end it drafts an answer from the best
passages and checks it against them (with the answer spelled out in a passage as the fallback). These are
functions of the run, the generator and the parameters they are given, apart from the loop that calls them.
"""

from collections.abc import Sequence

from lab.agent.deciding import decide
from lab.agent.prompts import sufficiency_prompt, support_prompt
from lab.agent.records import (
    EVIDENCE_PASSAGES,
    FINISH,
    YES_NO,
    AgentParams,
    AgentRun,
    Decision,
    Step,
)
from lab.context import LabContext
from lab.core.contracts import Passage
from lab.graph.entities import entity_key
from lab.graph.entity_graph import EntityGraph
from lab.llm.backend import Generator
from lab.steps.reading import read_passages


def reflect(run: AgentRun, question: str, generator: Generator, params: AgentParams, graph: EntityGraph | None) -> bool:
    """Whether the evidence found so far answers the question; recorded as a reflect step."""
    with run.trace.stage("reflect") as stage:
        evidence = run.passages[:EVIDENCE_PASSAGES]
        if not evidence:
            choice = Decision(" no", "rule: nothing retrieved yet")
        else:
            fallback = " yes" if covers_the_question(run, graph) else " no"
            choice = decide(generator, params.decision_margin, sufficiency_prompt(evidence, question), YES_NO,
                            fallback=fallback, trace=run.trace)
        enough = choice.choice == " yes"
        verdict = "the evidence suffices" if enough else "the evidence does not suffice yet"
        step = Step(len(run.steps) + 1, "reflect", "Does the evidence answer the question?",
                    FINISH if enough else "", observation=verdict, decided_by=choice.by)
        run.keep(stage, step)
    return enough


def covers_the_question(run: AgentRun, graph: EntityGraph | None) -> bool:
    """The fallback judgement: the pages of the entities the question names are found, and either it names
    two or more (a comparison) or a bridge was followed; without named entities, anything found."""
    found = run.passages
    if not run.named or graph is None:
        return bool(found)
    found_ids = {p.chunk_id for p in found}
    pages = [graph.pages_of(key) for key in run.named]
    covered = all(home & found_ids for home in pages if home)
    return covered and (len(run.named) >= 2 or bool(run.bridges))


def draft(run: AgentRun, ctx: LabContext, params: AgentParams) -> str:
    """An answer from the best passages, within what is left of the token budget; recorded as an answer step."""
    with run.trace.stage("generate") as stage:
        tokens = min(params.answer_tokens, params.max_generated_tokens - run.generated_tokens)
        text = read_passages(run.question, run.passages, ctx, run.trace, max_new_tokens=max(tokens, 1))
        step = Step(len(run.steps) + 1, "answer", "Answer from the best passages.", observation=text)
        run.keep(stage, step)
    return text


def supported(run: AgentRun, text: str, generator: Generator, params: AgentParams) -> bool:
    """Whether the best passages support the answer; recorded as a verify step."""
    with run.trace.stage("verify") as stage:
        evidence = run.passages[:EVIDENCE_PASSAGES]
        lexical = " yes" if _spelled_in(text, evidence) else " no"
        choice = (
            decide(generator, params.decision_margin, support_prompt(evidence, run.question, text), YES_NO,
                   fallback=lexical, trace=run.trace)
            if text else Decision(" no", "rule: empty answer")
        )
        is_supported = choice.choice == " yes"
        verdict = "supported by the passages" if is_supported else "not supported by the passages"
        step = Step(len(run.steps) + 1, "verify", f"Is {text!r} supported by a passage?", observation=verdict,
                    decided_by=choice.by)
        run.keep(stage, step)
    return is_supported


def _spelled_in(text: str, passages: Sequence[Passage]) -> bool:
    """True when every word of the answer appears in one passage, or it is a bare yes or no (no span to check)."""
    words = set(entity_key(text).split())
    if words and words <= {"yes", "no"}:
        return bool(passages)
    return bool(words) and any(words <= set(entity_key(p.text + " " + p.doc_title).split()) for p in passages)
