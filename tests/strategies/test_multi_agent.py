"""Multi-agent RAG on the real embedded model and the demo knowledge base: a manager, researchers with one
tool each, and a consensus that votes and, on disagreement, debates.

Each answer mode answers one bridge question once (a module fixture); the tests read its trace.
"""

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from app.charts import agent_swimlanes
from app.cli import app
from lab.agent import CONSENSUS, MANAGER, NOT_FOUND, tally
from lab.context import LabContext
from lab.core.placement import resolve_placement
from lab.graph.entities import entity_key
from lab.kb.knowledge_base import KnowledgeBase
from lab.llm import load_generator
from strategies import available_strategies, get_strategy
from strategies.multi_agent import MultiAgentRAG
from tests.conftest import server_settings

MODES = ("select", "generate")
RESEARCHERS = {"dense researcher", "BM25 researcher", "graph researcher"}


@pytest.fixture(scope="module")
def bridge_question(demo_questions) -> dict:
    """The director of "Big Stone Gap", then the city she is based in: two documents, one bridge."""
    return demo_questions[4]


@pytest.fixture(scope="module")
def answers(demo_ctx, bridge_question) -> dict:
    """The team's answer to the bridge question in each answer mode."""
    found = {}
    for mode in MODES:
        ctx = replace(demo_ctx, settings=demo_ctx.settings.model_copy(update={"answer_mode": mode}))
        found[mode] = MultiAgentRAG().answer(bridge_question["question"], ctx)
    return found


def stages_named(answer, name: str) -> list[dict]:
    return [stage.detail for stage in answer.trace.stages if stage.name == name]


def test_multi_agent_is_listed_after_agentic_by_raglab_strategies():
    result = CliRunner().invoke(app, ["strategies", "--json"])
    names = [described["name"] for described in json.loads(result.output)]
    assert names.index("multi-agent") == names.index("agentic") + 1
    assert list(available_strategies()).count("multi-agent") == 1


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_the_manager_each_researcher_and_the_consensus_work_in_lanes_of_their_own(answers, mode):
    trace = answers[mode].trace
    assert answers[mode].error is None and answers[mode].text
    assert {event.agent for event in trace.lanes} == {MANAGER, CONSENSUS, *RESEARCHERS}
    handed = {(message.sender, message.recipient) for message in trace.messages}
    assert {(MANAGER, name) for name in RESEARCHERS} <= handed
    assert {(name, CONSENSUS) for name in RESEARCHERS} <= handed
    assert (CONSENSUS, MANAGER) in handed
    assert all(0 <= event.start_ms <= event.end_ms <= trace.elapsed_ms() for event in trace.lanes)
    calls_in_lanes = sum(event.llm_calls + event.scoring_calls for event in trace.lanes)
    assert calls_in_lanes == len(trace.llm_calls) + len(trace.scoring_calls) > 0


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_each_researcher_searches_with_its_own_tool_and_no_other(answers, mode):
    tools_by_agent: dict[str, set[str]] = {}
    for act in stages_named(answers[mode], "act"):
        tools_by_agent.setdefault(act["agent"], set()).add(act["action"])
    assert set(tools_by_agent) == RESEARCHERS
    assert all(len(tools) == 1 for tools in tools_by_agent.values())
    assert len(set.union(*tools_by_agent.values())) == len(RESEARCHERS)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_the_answer_is_the_winning_proposal_with_the_winners_evidence(answers, mode, bridge_question):
    answer = answers[mode]
    decided = stages_named(answer, "decide")[-1]
    proposals = {p["agent"]: p for p in stages_named(answer, "propose")}
    won_with = decided["won_with"]

    assert answer.text == decided["winner"]
    assert all(entity_key(proposals[name]["observation"]) == entity_key(answer.text) for name in won_with)
    winners_evidence = {p["chunk_id"] for name in won_with for p in proposals[name]["passages"]}
    assert answer.passages and {p.chunk_id for p in answer.passages} <= winners_evidence
    assert len(answer.passages) <= 5
    assert bridge_question["supporting_facts"][0][0] in {p.doc_title for p in answer.passages}


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_votes_are_weighted_by_likelihood_and_a_debate_follows_disagreement(answers, mode):
    answer = answers[mode]
    vote = stages_named(answer, "vote")[-1]
    decided = stages_named(answer, "decide")[-1]
    debates = stages_named(answer, "debate")
    proposals = vote["proposals"]

    assert sum(vote["shares"].values()) == pytest.approx(1.0, abs=0.01)
    assert vote["unanimous"] == (len(proposals) == 1)
    assert decided["debated"] == (len(proposals) > 1) == bool(debates)
    if debates:
        assert {debate["agent"] for debate in debates} == {name for names in proposals.values() for name in names}
        assert all(set(debate["shares"]) == set(proposals) for debate in debates)
    assert max(decided["votes"], key=decided["votes"].get) == decided["winner"]


@pytest.mark.slow
def test_when_researchers_disagree_each_proposal_is_weighed_against_the_others_evidence(answers):
    """On the bridge question the researchers' evidence differs enough that at least one mode disagrees."""
    debated = [answer for answer in answers.values() if stages_named(answer, "debate")]
    assert debated, "no answer mode held a debate on the bridge question"
    for answer in debated:
        proposals = stages_named(answer, "vote")[-1]["proposals"]
        proposers = {name for names in proposals.values() for name in names}
        assert len(proposals) > 1
        assert [debate["agent"] for debate in stages_named(answer, "debate")] == [
            name for name in ("dense researcher", "BM25 researcher", "graph researcher") if name in proposers
        ]
        weighed = {message.recipient for message in answer.trace.messages if message.sender == CONSENSUS} - {MANAGER}
        assert weighed == proposers
        scored_in_consensus = [call for call in answer.trace.scoring_calls if call.stage in ("vote", "debate")]
        assert len(scored_in_consensus) == 1 + len(proposers), "one vote, then one debate call per proposer"


def test_the_tally_adds_to_each_proposal_what_the_other_researchers_evidence_concedes():
    class Proposer:
        def __init__(self, name):
            self.name = name

    dense, keyword, graph = Proposer("dense"), Proposer("keyword"), Proposer("graph")
    proposals = {"Paris": [dense, keyword], "Lyon": [graph]}
    votes = tally(proposals, [0.25, 0.75], {"dense": [0.9, 0.1], "keyword": [0.8, 0.2], "graph": [0.6, 0.4]})
    assert votes == pytest.approx({"Paris": 2 * 0.25 + 0.6, "Lyon": 0.75 + 0.1 + 0.2})


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_every_answer_mode_reads_the_proposals_its_way(answers, mode):
    answer = answers[mode]
    proposed = stages_named(answer, "propose")
    assert {p["answer_mode"] for p in proposed} == {mode}
    generations = {call.stage for call in answer.trace.llm_calls}
    if mode == "select":
        assert generations == set(), "decisions and selections are scored, never written"
        assert stages_named(answer, "decide")[-1]["candidates"]
    else:
        assert generations == {"propose"}


@pytest.mark.slow
def test_the_trace_with_its_lanes_is_json_and_draws_as_one_swim_lane_per_agent(answers):
    answer = answers["select"]
    stored = json.loads(json.dumps(answer.to_dict()))
    assert {lane["agent"] for lane in stored["trace"]["lanes"]} == {MANAGER, CONSENSUS, *RESEARCHERS}
    assert len(stored["trace"]["messages"]) == len(answer.trace.messages)

    answer.trace.message(CONSENSUS, MANAGER, "<script>alert(1)</script>")
    figure = agent_swimlanes(answer)
    assert len(figure.layout.yaxis.ticktext) == len(RESEARCHERS) + 2
    assert all("LLM calls" in label for label in figure.layout.yaxis.ticktext)
    hover = [text for trace in figure.data if trace.hovertext for text in trace.hovertext]
    assert any("&lt;script&gt;" in text for text in hover) and not any("<script>" in text for text in hover)
    answer.trace.messages.pop()


def test_on_a_server_without_fast_log_probabilities_the_team_decides_by_constrained_choice(
    demo_ctx, llama_server, bridge_question
):
    settings = server_settings(demo_ctx.settings, llama_server.url)
    served = replace(demo_ctx, settings=settings, generator=load_generator(settings, resolve_placement(settings)))

    answer = MultiAgentRAG().answer(bridge_question["question"], served)

    assert answer.error is None and answer.text and answer.passages
    assert {event.agent for event in answer.trace.lanes} == {MANAGER, CONSENSUS, *RESEARCHERS}
    paths = {call.path for call in answer.trace.scoring_calls}
    assert paths and "likelihood" not in paths
    assert {p["answer_mode"] for p in stages_named(answer, "propose")} == {"generate"}


def test_given_an_empty_corpus_every_researcher_abstains_and_the_answer_is_not_found(settings, embedder, generator, extractor):
    kb = KnowledgeBase.open(settings.home, "multi-agent-empty", create=True)
    ctx = LabContext(settings=settings, generator=generator, embedder=embedder, kb=kb, extractor=extractor)

    answer = get_strategy("multi-agent").answer("Who directed the film Harrow Quay?", ctx)

    assert answer.text == NOT_FOUND and answer.passages == () and answer.error is None
    abstained = [m for m in answer.trace.messages if m.recipient == CONSENSUS]
    assert abstained and all("abstains" in m.text for m in abstained)
    kb.close()
