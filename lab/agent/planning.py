"""Planning: what the loop looks up next, and with which tool.

The question is split into one sub-question per entity it names, then the question itself (Self-Ask); once
those are done, the next sub-question follows a bridge entity the passages name, or retries the question
with a tool not yet tried. Each choice is scored by the generator with a rule as fallback (`decide`). These
are functions of the run, the generator, the parameters and the graph they are given, so the loop reads as
the order of steps and this module as how each next step is chosen.
"""

from collections.abc import Collection

import numpy as np

from lab.agent.deciding import decide
from lab.agent.prompts import action_prompt, bridge_prompt, multi_hop_prompt
from lab.agent.records import (
    EVIDENCE_PASSAGES,
    MIN_EVIDENCE_WORDS,
    YES_NO,
    AgentParams,
    AgentRun,
    Decision,
    Step,
    SubQuestion,
)
from lab.core.text import sentence_spans
from lab.core.tracing import Trace
from lab.graph.entities import entity_key
from lab.graph.entity_graph import EntityGraph
from lab.graph.linking import TEXT_NAME_WORDS, named_entities
from lab.kb.embedding import Embedder
from lab.llm.backend import Generator


def plan(
    run: AgentRun, question: str, named: list[str], generator: Generator, params: AgentParams, graph: EntityGraph | None
) -> list[SubQuestion]:
    """One sub-question per entity the question names, then the question itself; or just the question.

    A name much of the corpus shares without a page of its own gets none: looking up "Click" in Click's docs
    returned generic passages that took a share of the top-k from the page the question needs.
    """
    final = SubQuestion(question, question, "Answer the question itself.")
    named = [key for key in named if graph is None or not graph.is_common(key, params.common_share)]
    if not params.plan or not named:
        return [final]
    with run.trace.stage("plan") as stage:
        choice = decide(generator, params.decision_margin, multi_hop_prompt(question), YES_NO, fallback=" yes",
                        trace=run.trace)
        subs = [final]
        if choice.choice == " yes":
            names = [graph.name(key) for key in named]
            subs = [SubQuestion(f"What does the corpus say about {n}?", n, f"The question names {n}; look it up.")
                    for n in names]
            subs.append(SubQuestion(question, question, "With what the sub-questions found, answer the question."))
        step = Step(len(run.steps) + 1, "plan", "Are follow-up questions needed? Split by the entities named.",
                    observation=" | ".join(sub.text for sub in subs), decided_by=choice.by)
        run.keep(stage, step)
    return subs


def choose_tool(
    sub: SubQuestion,
    tools: Collection[str],
    generator: Generator,
    params: AgentParams,
    graph: EntityGraph | None,
    trace: Trace | None = None,
) -> Decision:
    """The tool for the sub-question, of the agent's tools (their names, in order)."""
    fallback = fallback_tool(sub.query, tools, graph)
    if len(tools) == 1:
        return Decision(fallback, "rule: the only tool")
    choice = decide(generator, params.decision_margin, action_prompt(sub.text, sub.thought),
                    [f" {name}" for name in tools], fallback=f" {fallback}", neutral=action_prompt("N/A", "N/A"),
                    trace=trace)
    return Decision(choice.choice.strip(), choice.by)


def fallback_tool(query: str, tools: Collection[str], graph: EntityGraph | None, tried: str = "") -> str:
    """The graph when the input is an entity's name, dense search for a sentence, then any other tool."""
    is_a_name = graph is not None and len(query.split()) <= TEXT_NAME_WORDS and named_entities(query, graph)
    preferred = ["graph", "search", "keyword"] if is_a_name else ["search", "keyword", "graph"]
    order = [name for name in preferred if name in tools] + [n for n in tools if n not in preferred]
    return next((name for name in order if name != tried), order[0])


def next_sub_question(
    run: AgentRun,
    question: str,
    done: set[tuple[str, str]],
    tools: Collection[str],
    generator: Generator,
    params: AgentParams,
    graph: EntityGraph | None,
) -> SubQuestion | None:
    """The question filled in with the next bridge entity, or the question again with a tool not yet tried."""
    bridge = choose_bridge(run, question, generator, params, graph)
    if bridge is not None:
        thought = f"The passages name {bridge}, which the question does not; follow it."
        return SubQuestion(f"{question} ({bridge})", bridge, thought)
    untried = [name for name in tools if (name, question) not in done]
    if untried:
        return SubQuestion(question, question, f"No entity left to follow; switch to {untried[0]}.", untried[0])
    return None


def evidence_sub_question(
    run: AgentRun, question: str, tools: Collection[str], embedder: Embedder
) -> SubQuestion | None:
    """The sentence of the best passages closest to the question, as a search away from its page.

    A bridge is often a term rather than a name ("a parameter's default from the context"): the sentence
    that states it sits on the first page, the term's own page is elsewhere. Searching with that sentence
    (multi-hop dense retrieval conditions the second hop on the first passage the same way, Xiong et al.,
    2021) and leaving out the page it came from finds the page the term leads to. Measured on the
    docs-demo's two-page questions: R@5 0.864 to 0.909 with dense search (0.864 with keyword search, 0.818
    with the two closest sentences); the HotpotQA demo held at 0.950.
    """
    sentences = [
        (passage, text)
        for passage in run.passages[:EVIDENCE_PASSAGES]
        for span in sentence_spans(passage.text)
        if len((text := passage.text[span.start : span.end]).split()) >= MIN_EVIDENCE_WORDS
    ]
    if not sentences:
        return None
    similarity = embedder.embed_many([text for _, text in sentences]) @ embedder.embed(question)
    passage, sentence = sentences[int(np.argmax(similarity))]
    sentence = " ".join(sentence.split())
    tool = "search" if "search" in tools else next(iter(tools))
    thought = f"{passage.doc_title} says: {sentence[:160]}; follow what it refers to."
    return SubQuestion(f"Where does this lead? {sentence}", sentence, thought, tool, leaving=passage.doc_title)


def choose_bridge(
    run: AgentRun, question: str, generator: Generator, params: AgentParams, graph: EntityGraph | None
) -> str | None:
    """The entity to follow next: named by the passages, not by the question, not followed before."""
    candidates = bridge_candidates(run, question, graph)
    if len(candidates) <= 1:
        run.bridges.extend(candidates)
        return candidates[0] if candidates else None
    evidence = run.passages[:EVIDENCE_PASSAGES]
    prompt = bridge_prompt(evidence, question)
    with run.trace.stage("reflect") as stage:
        choice = decide(generator, params.decision_margin, prompt, [f" {c}" for c in candidates],
                        fallback=f" {candidates[0]}", trace=run.trace)
        step = Step(len(run.steps) + 1, "reflect", "Which entity of the passages leads on?",
                    observation=f"follow {choice.choice.strip()} (of {', '.join(candidates)})",
                    decided_by=choice.by)
        run.keep(stage, step)
    run.bridges.append(choice.choice.strip())
    return choice.choice.strip()


def bridge_candidates(run: AgentRun, question: str, graph: EntityGraph | None, limit: int = 3) -> list[str]:
    """Entities with a page of their own, mentioned by the passages found, not named by the question and
    not followed yet, and linked in the graph to an entity the question names or a bridge followed
    before (from the two best passages when the question names none); strongest first, the fallback order.

    Strength is the entity's specificity summed over the passages mentioning it, each weighted by 1/rank,
    plus its links to the entities already followed, each relative to that entity's strongest link: a
    film's director is linked to the film by name and verb, a distractor passage's names are not. A page
    spelled out on a followed entity's own page is linked to it too.
    """
    if graph is None:
        return []
    asked = f" {entity_key(question)} "
    followed = [*run.named, *(key for b in run.bridges for key in named_entities(b, graph)[:1])]
    strength: dict[str, float] = {}
    linked: set[str] = set()
    for rank, passage in enumerate(run.passages, start=1):
        entities = graph.entities_of(passage.chunk_id)
        spelled = graph.pages_named_in(passage.text)
        on_a_followed_page = any(entities.get(key) for key in followed)
        for key in set(entities) | spelled:
            if not graph.has_page(key) or entities.get(key) or key in followed or f" {key} " in asked:
                continue
            strength[key] = strength.get(key, 0.0) + graph.specificity(key) / rank
            if on_a_followed_page:
                linked.add(key)
    for source in followed:
        links = graph.neighbours(source)
        strongest = max(links.values(), default=1.0)
        for key in strength:
            if key in links:
                strength[key] += links[key] / strongest
                linked.add(key)
    if followed:
        strength = {key: value for key, value in strength.items() if key in linked}
    else:
        near = {key for p in run.passages[:2] for key in graph.entities_of(p.chunk_id)}
        strength = {key: value for key, value in strength.items() if key in near}
    ranked = sorted(strength, key=lambda k: (-strength[k], k))[:limit]
    return [graph.name(key) for key in ranked]
