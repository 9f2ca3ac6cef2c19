"""Agentic RAG and its corrective and self-reflective variants, on the real default models.

Budgets are kept small so each test runs only a few scored passes and at most one generation.
"""

import pytest

from lab.agent import Agent, AgentParams
from lab.agent.records import NOT_FOUND, AgentRun, ToolResult
from lab.agent.tools import KeywordSearch, linked_passages
from lab.context import LabContext
from lab.core import Passage, Trace
from lab.kb.knowledge_base import KnowledgeBase
from lab.steps import read_passages
from strategies import get_strategy
from strategies.agentic import AgenticRAG
from strategies.crag import CorrectiveRAG
from strategies.self_rag import SelfRAG
from strategies.traditional import TraditionalRAG
from tests.conftest import build_kb, make_corpus_ctx
from tests.graph.test_graph import BRIDGE_CORPUS, QUESTION


class FindsNothing:
    """A tool whose index holds nothing the question matches."""

    def __init__(self, name: str):
        self.name = name

    def run(self, query: str, k: int) -> ToolResult:
        return ToolResult((), "no passages")


class Offline:
    """A tool whose backend is down."""

    name = "search"

    def run(self, query: str, k: int) -> ToolResult:
        raise RuntimeError("index offline")


@pytest.fixture(scope="module")
def bridge_ctx(settings, embedder, generator, tmp_path_factory, extractor) -> LabContext:
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path_factory.mktemp("agentic"), "agentic-bridge", BRIDGE_CORPUS)
    top_3 = settings.model_copy(update={"top_k": 3})
    return LabContext(settings=top_3, generator=generator, embedder=embedder, kb=ctx.kb, extractor=extractor)


def act_steps(run) -> list:
    return [step for step in run.steps if step.kind == "act"]


@pytest.mark.slow
def test_given_a_bridge_question_when_the_agent_answers_then_it_finds_both_hops_traditional_only_the_first(
    bridge_ctx,
):
    answer = AgenticRAG().answer(QUESTION, bridge_ctx)
    traditional = TraditionalRAG().retrieve(QUESTION, bridge_ctx)

    assert {"Harrow Quay", "Mirela Vasquez"} <= {p.doc_title for p in answer.passages}
    assert "Harrow Quay" in {p.doc_title for p in traditional.passages}
    assert "Mirela Vasquez" not in {p.doc_title for p in traditional.passages}
    acts = [stage.detail for stage in answer.trace.stages if stage.name == "act"]
    assert len(acts) >= 2
    assert all({"thought", "action", "action_input", "observation", "passages"} <= set(act) for act in acts)
    names = [stage.name for stage in answer.trace.stages]
    assert answer.text and answer.error is None
    assert set(names) <= set(AgenticRAG.stages) and {"act", "stop", "generate", "verify"} <= set(names)
    stop = next(stage.detail for stage in answer.trace.stages if stage.name == "stop")
    assert stop["observation"]
    assert {call.stage for call in answer.trace.llm_calls} <= {"generate"}, "decisions are scored, never written"
    assert "generate" in {call.stage for call in [*answer.trace.llm_calls, *answer.trace.scoring_calls]}
    assert answer.trace.kv_bytes_total >= answer.trace.kv_bytes_peak > 0



def test_the_plan_looks_up_a_named_page_but_not_a_name_much_of_the_corpus_shares(bridge_ctx):
    question = "Does the film Harrow Quay follow a dock worker in Lisbon?"
    graph = Agent(bridge_ctx, AgentParams()).graph
    assert graph.is_common("lisbon", 0.05) and not graph.is_common("lisbon", 0.5)
    assert not graph.is_common("harrow quay", 0.0)

    run = Agent(bridge_ctx, AgentParams(decision_margin=10.0)).retrieve(question)

    planned = next(step for step in run.steps if step.kind == "plan").observation.split(" | ")
    assert planned == ["What does the corpus say about Harrow Quay?", question]


def test_after_the_planned_steps_it_searches_with_the_found_sentence_closest_to_the_question_away_from_its_page(
    settings, embedder, generator, tmp_path, extractor,
):
    """The one sentence naming the kettle's heating element and its maker is the closest by construction; the
    maker's page shares no word with the question, so only that sentence leads to it."""
    bridge = "The heating element of the Brio kettle is made by Calder Works."
    pages = {
        "Brio kettle": f"The Brio kettle holds 1.7 litres of water. {bridge} Its lid opens with a button.",
        "Calder Works": "Calder Works is a foundry in Sheffield. It has cast metal parts since 1921.",
        "Garden hose guide": "Drain the hose and store it indoors before the first frost of the winter.",
        "Orla blender": "The Orla blender has a glass jug and three speeds. Wash the jug by hand after use.",
    }
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path, "agent-evidence", pages)
    params = AgentParams(plan=False, follow_links=False, decision_margin=10.0)
    question = "In which city is the maker of the Brio kettle's heating element?"

    run = Agent(ctx, params).retrieve(question)

    first, evidence = act_steps(run)[:2]
    assert first.action_input == question and first.passages[0].doc_title == "Brio kettle"
    assert evidence.action == "search" and evidence.action_input == bridge
    assert evidence.passages[0].doc_title == "Calder Works"
    assert "Brio kettle" not in {p.doc_title for p in evidence.passages}
    assert "leaving out Brio kettle" in evidence.observation


def test_then_it_follows_the_links_of_the_best_passages_to_a_page_no_search_found(
    settings, embedder, generator, tmp_path, extractor,
):
    pages = {
        "reports.md": "# Scheduled Reports\n\nScheduled reports run every night at two. The folder they are "
                      "written to is configured as described in {doc}`storage-setup`.",
        "storage-setup.md": "# Configuring Where Files Go\n\nThe export path defaults to /var/lib/widget/out.",
        "glossary.md": "# Glossary\n\nA widget is the unit of work; a gadget is a group of widgets.",
    }
    for name, text in pages.items():
        (tmp_path / name).write_text(text)
    kb = build_kb(settings, embedder, "agent-links", [tmp_path])
    ctx = LabContext(settings=settings, generator=generator, embedder=embedder, kb=kb, extractor=extractor)
    params = AgentParams(plan=False, follow_evidence=False, passages_per_step=1, decision_margin=10.0)
    question = "When do scheduled reports run?"

    run = Agent(ctx, params).retrieve(question)

    search, links = act_steps(run)[:2]
    assert [p.doc_title for p in search.passages] == ["Scheduled Reports"]
    assert links.action == "links" and links.decided_by == "rule"
    assert [p.doc_title for p in links.passages] == ["Configuring Where Files Go"]
    assert "Configuring Where Files Go" in {p.doc_title for p in run.passages}
    again = linked_passages(kb, embedder, question, search.passages, found={"Configuring Where Files Go"})
    assert again.passages == () and "nothing not found yet" in again.observation


def test_given_tools_that_find_nothing_when_the_agent_runs_then_it_stops_within_the_step_and_token_budget(bridge_ctx):
    params = AgentParams(max_steps=3, max_generated_tokens=40, answer_tokens=16)
    agent = Agent(bridge_ctx, params, tools=[FindsNothing("search"), FindsNothing("keyword")])

    run = agent.retrieve(QUESTION)
    text = agent.answer(run)

    assert len(act_steps(run)) == params.max_steps
    assert run.generated_tokens <= params.max_generated_tokens
    assert run.stop_reason.startswith("budget") and "tool steps" in run.stop_reason
    assert text == NOT_FOUND and run.passages == ()


def test_given_a_wall_time_budget_when_it_runs_out_then_no_new_step_starts_and_the_reason_is_given(bridge_ctx):
    params = AgentParams(max_seconds=0.001)
    agent = Agent(bridge_ctx, params)

    run = agent.retrieve(QUESTION)

    assert len(act_steps(run)) <= 1
    assert "wall time" in run.stop_reason
    assert run.steps[-1].kind == "stop" and run.steps[-1].observation == run.stop_reason


def test_given_a_tool_that_repeats_the_same_action_then_the_loop_is_cut_off_with_the_reason(bridge_ctx):
    agent = Agent(bridge_ctx, AgentParams(max_steps=10), tools=[FindsNothing("search")])

    run = agent.retrieve(QUESTION)

    assert len(act_steps(run)) == 2
    assert "repeated action search" in run.stop_reason and "twice in a row" in run.stop_reason
    assert act_steps(run)[-1].observation == run.stop_reason


def test_given_a_tool_that_raises_when_the_agent_uses_it_then_it_is_observed_and_another_tool_answers(bridge_ctx):
    rule_decides = AgentParams(decision_margin=10.0)
    agent = Agent(bridge_ctx, rule_decides, tools=[Offline(), KeywordSearch(bridge_ctx.kb)])

    run = agent.retrieve(QUESTION)

    first, second = act_steps(run)[:2]
    assert first.action == "search" and first.observation == "search failed: RuntimeError: index offline"
    assert second.action == "keyword" and second.passages
    assert "Harrow Quay" in {p.doc_title for p in run.passages}


def test_given_an_empty_corpus_when_asking_agentic_then_it_answers_not_found_within_the_budget(
    settings, embedder, generator, extractor
):
    kb = KnowledgeBase.open(settings.home, "agentic-empty", create=True)
    ctx = LabContext(settings=settings, generator=generator, embedder=embedder, kb=kb, extractor=extractor)
    strategy = get_strategy("agentic", max_steps=4)

    answer = strategy.answer("Who directed the film Harrow Quay?", ctx)

    assert answer.text == NOT_FOUND and answer.passages == () and answer.error is None
    acts = [stage.detail for stage in answer.trace.stages if stage.name == "act"]
    assert 1 <= len(acts) <= 4
    stop = next(stage.detail for stage in answer.trace.stages if stage.name == "stop")
    assert stop["observation"]
    kb.close()


@pytest.mark.parametrize("cls", [CorrectiveRAG, SelfRAG], ids=lambda cls: cls.name)
def test_given_a_question_crag_and_self_rag_answer_with_their_named_stages(cls, bridge_ctx):
    strategy = cls(cls.Params(graded=3) if cls is CorrectiveRAG else None)

    answer = strategy.answer(QUESTION, bridge_ctx)

    assert answer.error is None and answer.text and answer.strategy == cls.name
    assert [stage.name for stage in answer.trace.stages] == list(strategy.stages)
    details = {stage.name: stage.detail for stage in answer.trace.stages}
    if cls is CorrectiveRAG:
        assert details["grade"]["grades"] and details["correct"]["action"]
        assert answer.passages
    else:
        assert details["draft"]["draft"] is not None and details["decide"]["decision"]
        assert ("retrieved" in details["retrieve"]) == bool(answer.passages)



def test_once_self_rag_retrieves_it_answers_from_the_passages_and_the_draft_no_longer_competes(bridge_ctx):
    always_retrieve = SelfRAG(SelfRAG.Params(decision_margin=10.0, min_confidence=0.0))

    answer = always_retrieve.answer(QUESTION, bridge_ctx)

    reread = Trace()
    with reread.stage("generate"):
        from_the_passages = read_passages(QUESTION, answer.passages, bridge_ctx, reread)
    assert answer.passages and answer.text == from_the_passages
    generate = next(stage.detail for stage in answer.trace.stages if stage.name == "generate")
    assert generate["chosen"] == "the answer from the passages" and "support_log_odds" in generate

def test_the_final_order_puts_each_documents_best_passage_ahead_of_a_second_one_from_the_same_document():
    def passage(chunk_id: int, title: str) -> Passage:
        return Passage(chunk_id, title, 1.0, f"text {chunk_id}")

    run = AgentRun("q", Trace(), top_k=3)
    run.rankings = [(passage(1, "Shell Completion"), passage(2, "Shell Completion"), passage(3, "Shell Completion")),
                    (passage(2, "Shell Completion"), passage(4, "Packaging Entry Points"))]

    assert [p.chunk_id for p in run.passages] == [1, 4, 2]
