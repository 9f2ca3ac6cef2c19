"""The strategy contract, the registry and the retrieval family, run on the real default models."""

import json

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from app.cli import app
from app.running import EmptyQuestion, compare
from lab.context import RetrievingStrategy
from lab.core.contracts import Passage
from lab.core.parameters import InvalidStrategyParams
from lab.kb.knowledge_base import KnowledgeBase
from lab.steps.fusion import reciprocal_rank_fusion
from lab.steps.reranking import relevance, rerank
from strategies import BUILT_IN, UnknownStrategy, available_strategies, get_strategy
from tests.commands import raglab
from tests.conftest import REPO_ROOT, make_corpus_ctx

STRATEGIES_DIR = REPO_ROOT / "strategies"
FIRST_EIGHT = ["no-retrieval", "traditional", "bm25", "hybrid", "hyde", "rerank", "rewrite", "fusion"]


def passage(chunk_id: int, title: str, text: str = "") -> Passage:
    return Passage(chunk_id, title, 0.0, text or title)


UNRELATED = passage(1, "Banana", "The banana is an elongated, edible fruit produced by plants of the genus Musa.")
ANSWERING = passage(2, "Paris", "Paris is the capital and largest city of France, on the river Seine.")


def test_every_file_in_strategies_is_listed_in_the_registry():
    files = {path.stem for path in STRATEGIES_DIR.glob("*.py") if path.stem != "__init__"}
    listed = {cls.__module__.rsplit(".", 1)[-1] for cls in BUILT_IN}
    assert files <= listed, f"add {sorted(files - listed)} to BUILT_IN in strategies/__init__.py"


def test_the_registry_starts_with_the_eight_retrieval_family_strategies_in_order():
    assert list(available_strategies())[:8] == FIRST_EIGHT


@pytest.mark.parametrize("cls", BUILT_IN, ids=lambda cls: cls.name)
def test_each_built_in_declares_name_description_parameters_and_stages(cls):
    strategy = cls()
    assert cls.name.replace("-", "").isalnum() and cls.name == cls.name.lower()
    assert len(cls.description.strip()) > 80 and "Cost" in cls.description
    assert all(field.description for field in cls.Params.model_fields.values())
    assert strategy.stages and len(set(strategy.stages)) == len(strategy.stages)


def test_reciprocal_rank_fusion_sums_one_over_k_plus_rank_across_lists():
    a, b, c = passage(1, "a"), passage(2, "b"), passage(3, "c")
    fused = reciprocal_rank_fusion([[a, b, c], [c, a]], limit=3, k=60)
    assert [p.doc_title for p in fused] == ["a", "c", "b"]
    assert fused[0].score == pytest.approx(1 / 61 + 1 / 62)
    assert fused[1].score == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2].score == pytest.approx(1 / 62)


def test_reranking_by_question_likelihood_puts_the_answering_passage_above_an_unrelated_one(generator):
    ranked = rerank("What is the capital of France?", [UNRELATED, ANSWERING], generator, top_k=2)
    assert [p.doc_title for p in ranked] == ["Paris", "Banana"]
    assert ranked[0].score > ranked[1].score


def test_the_relevance_grade_favours_the_answering_passage(generator):
    question = "What is the capital of France?"
    assert relevance(question, ANSWERING, generator) > relevance(question, UNRELATED, generator)


@pytest.mark.parametrize("name", FIRST_EIGHT)
def test_given_a_demo_question_each_strategy_answers_with_its_named_stages(name, demo_ctx, demo_questions):
    strategy = get_strategy(name, **({"pool_size": 8} if name == "rerank" else {}))
    answer = strategy.answer(demo_questions[0]["question"], demo_ctx)
    assert answer.error is None and answer.strategy == name
    assert [stage.name for stage in answer.trace.stages] == list(strategy.stages)
    last_call = [*answer.trace.llm_calls, *answer.trace.scoring_calls][-1]
    assert last_call.stage == "generate" and answer.trace.kv_bytes_peak > 0
    if name == "no-retrieval":
        assert answer.passages == ()
    else:
        assert 0 < len(answer.passages) <= demo_ctx.settings.top_k
        assert isinstance(strategy, RetrievingStrategy)


def test_hyde_with_rerank_on_keeps_the_draft_in_the_trace_and_reranks_a_wider_pool(demo_ctx, demo_questions):
    question = demo_questions[0]["question"]
    hyde = get_strategy("hyde", rerank=True, rerank_pool=8)
    retrieval = hyde.retrieve(question, demo_ctx)
    stages = {stage.name: stage for stage in retrieval.trace.stages}
    assert list(stages) == ["draft", "embed", "retrieve", "rerank"]
    assert stages["draft"].detail["drafts"] and stages["draft"].detail["drafts"][0]
    scores = [p.score for p in retrieval.passages]
    assert len(scores) == demo_ctx.settings.top_k and scores == sorted(scores, reverse=True)



def test_rewrite_searches_the_question_with_its_rewritten_query_appended_so_no_question_term_is_lost(demo_ctx, demo_questions):
    question = demo_questions[0]["question"]
    retrieval = get_strategy("rewrite").retrieve(question, demo_ctx)
    query = retrieval.trace.stages[0].detail["query"]
    assert query and query != question
    appended = demo_ctx.kb.dense_search(demo_ctx.embedder.embed(f"{question.strip()}\n{query}"), demo_ctx.settings.top_k)
    assert [p.chunk_id for p in retrieval.passages] == [p.chunk_id for p in appended]

RARE_TERM_CORPUS = {
    "Espresso gaskets": "Espresso machines seal the group head with a rubber gasket that wears out every year.",
    "Espresso pumps": "A vibration pump in a home espresso machine builds the nine bars of pressure for a shot.",
    "Espresso boilers": "Dual boiler espresso machines steam milk and brew coffee at the same time.",
    "Espresso grinders": "Burr grinders for espresso machines set the fineness of the coffee grounds.",
    "Espresso descaling": "Descaling an espresso machine removes limescale from its boiler and pipes.",
    "Harbour ledger": "Crate ZQ-7714 was unloaded at Rotterdam in March, carrying oak timber for shipbuilders.",
}


def test_hybrid_keeps_a_passage_that_only_keyword_search_ranks_in_the_top_k(settings, embedder, generator, tmp_path, extractor):
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path, "rare-term", RARE_TERM_CORPUS)
    question = "Which espresso machine part is ZQ-7714?"
    top_k = ctx.settings.top_k
    dense_titles = [p.doc_title for p in ctx.kb.dense_search(embedder.embed(question), top_k)]
    keyword_titles = [p.doc_title for p in ctx.kb.keyword_search(question, top_k)]
    assert "Harbour ledger" not in dense_titles and keyword_titles[0] == "Harbour ledger"
    hybrid_titles = [p.doc_title for p in get_strategy("hybrid").retrieve(question, ctx).passages]
    assert "Harbour ledger" in hybrid_titles and len(hybrid_titles) == top_k


@pytest.mark.parametrize("name", ["traditional", "no-retrieval"])
def test_the_prompt_templates_in_settings_are_what_the_generator_reads(name, demo_ctx, demo_questions):
    from dataclasses import replace

    from lab.llm.prompts import answer_prompt, closed_book_prompt

    settings = demo_ctx.settings.model_copy(
        update={"answer_template": "Context:\n{passages}\nQ: {question}\nA:", "closed_book_template": "Q: {question}\nA:"}
    )
    question = demo_questions[0]["question"]
    answer = get_strategy(name).answer(question, replace(demo_ctx, settings=settings))
    prompt = (
        answer_prompt(question, answer.passages, settings.answer_template) if answer.passages
        else closed_book_prompt(question, settings.closed_book_template)
    )
    beginning_of_text = 1
    read = [*answer.trace.llm_calls, *answer.trace.scoring_calls][-1]
    assert read.prompt_tokens == demo_ctx.generator.count_tokens(prompt) + beginning_of_text


def test_an_unknown_strategy_is_refused_with_the_known_names():
    with pytest.raises(UnknownStrategy, match=r"No strategy 'hyed'; known: no-retrieval, traditional, bm25"):
        get_strategy("hyed")


def test_a_parameter_out_of_range_is_refused_naming_the_parameter_and_its_range():
    with pytest.raises(InvalidStrategyParams, match=r"parameter 'drafts' of 'hyde' accepts 1 to 4; got 9"):
        get_strategy("hyde", drafts=9)
    with pytest.raises(InvalidStrategyParams, match=r"'top_n' is not a parameter of 'hybrid' \(its parameters: .*rrf_k"):
        get_strategy("hybrid", top_n=3)


def test_an_empty_question_is_refused_before_any_strategy_runs(demo_ctx):
    with pytest.raises(EmptyQuestion, match="The question is empty"):
        compare("   ", ["traditional"], demo_ctx)


class Exploding:
    name = "exploding"
    description = "Always raises, to show a comparison survives a failing strategy."
    stages = ("explode",)

    class Params(BaseModel):
        pass

    def __init__(self, params=None):
        self.params = params

    def answer(self, question, ctx):
        raise RuntimeError("the fuse was lit")


def test_a_strategy_that_raises_is_reported_in_its_row_and_the_others_complete(demo_ctx, demo_questions, monkeypatch):
    monkeypatch.setattr("strategies.BUILT_IN", (*BUILT_IN, Exploding))
    failed, answered = compare(demo_questions[0]["question"], ["exploding", "bm25"], demo_ctx)
    assert failed.strategy == "exploding" and failed.error == "RuntimeError: the fuse was lit"
    assert answered.error is None and answered.passages


def test_cli_compare_refuses_unknown_names_and_empty_questions_before_loading_models(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGLAB_HOME", str(tmp_path))
    runner = CliRunner()
    unknown = runner.invoke(app, ["compare", "Who directed Ed Wood?", "--kb", "demo", "--strategies", "bm25,hyed"])
    assert unknown.exit_code == 2 and "No strategy 'hyed'; known: no-retrieval" in unknown.output
    empty = runner.invoke(app, ["compare", "  ", "--kb", "demo"])
    assert empty.exit_code == 2 and "The question is empty" in empty.output


def test_cli_compare_on_a_knowledge_base_without_chunks_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGLAB_HOME", str(tmp_path))
    KnowledgeBase.open(tmp_path, "empty", create=True).close()
    result = CliRunner().invoke(app, ["compare", "Who directed Ed Wood?", "--kb", "empty", "--home", str(tmp_path)])
    assert result.exit_code == 2 and "'empty' has no chunks yet" in result.output


def test_cli_compare_json_gives_one_object_per_strategy(demo_kb, lab_home):
    result = raglab(
        "compare", "Were Scott Derrickson and Ed Wood of the same nationality?",
        "--kb", demo_kb.name, "--strategies", "no-retrieval,bm25", "--json", home=lab_home,
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout)
    assert [a["strategy"] for a in answers] == ["no-retrieval", "bm25"]
    assert all(a["error"] is None and a["answer"] for a in answers)
    assert answers[0]["contexts"] == [] and answers[1]["contexts"]
