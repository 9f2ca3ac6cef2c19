"""Answer selection: candidates from real passages of both demo corpora, ranked by the embedded model."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from lab.context import LabContext
from lab.core.contracts import Passage
from lab.core.tracing import Trace
from lab.llm.prompts import answer_prompt
from lab.steps import read_passages
from lab.steps.candidates import Candidate, QuestionShape, answer_candidates, asks_yes_or_no, question_shape
from lab.steps.selecting import RankingWeights, rank_candidates, ranking_score, resolved_answer_mode

DOCS = Path(__file__).resolve().parents[2] / "datasets" / "click_docs"
OPEN = QuestionShape(yes_no=False, options=(), expected_labels=frozenset())


@pytest.fixture(scope="module")
def nlp(extractor):
    return extractor.nlp


def supporting_passages(record: dict) -> list[Passage]:
    """The record's gold paragraphs, as the passages a perfect retriever would return."""
    gold = {title for title, _ in record["supporting_facts"]}
    paragraphs = [(title, "".join(sentences)) for title, sentences in record["context"] if title in gold]
    return [Passage(i, title, 1.0, text) for i, (title, text) in enumerate(paragraphs)]


def docs_paragraph(file_name: str, needle: str) -> Passage:
    """The paragraph of a bundled docs page that holds `needle`."""
    text = (DOCS / file_name).read_text()
    title = re.search(r"^#\s+(.+)$", text, re.MULTILINE).group(1).strip()
    paragraph = next(p for p in text.split("\n\n") if needle in p)
    return Passage(0, title, 1.0, paragraph)


def record_answered(demo_questions: list[dict], answer: str) -> dict:
    return next(record for record in demo_questions if record["answer"] == answer)


def test_a_yes_no_question_is_answered_yes_or_no(nlp):
    question = "Are Local H and For Against both from the United States?"
    shape = question_shape(question, nlp)
    passages = [Passage(0, "Local H", 1.0, "Local H is an American rock band from Zion, Illinois.")]
    assert shape.yes_no
    assert [c.text for c in answer_candidates(question, passages, nlp, shape)] == ["yes", "no"]



@pytest.mark.parametrize(
    "question, yes_no",
    [
        ("Does the backup keep three copies?", True),
        ("If I pass --help on purpose, does the program exit with status 0?", True),
        ("When the lamp is charging, is the light red?", True),
        ("What series, told in the first person, has companion books?", False),
        ("When compiling the app, which build option keeps the data files?", False),
        ("Which copy does the backup keep?", False),
    ],
)
def test_a_yes_no_question_is_told_by_an_auxiliary_opening_it_or_its_last_clause(question: str, yes_no: bool):
    assert asks_yes_or_no(question) is yes_no

def test_a_question_that_offers_two_options_is_answered_by_one_of_them(nlp):
    shape = question_shape("Which is older, the Lumen 3 lamp or the Lumen 5 lamp?", nlp)
    assert not shape.yes_no
    assert shape.options == ("Lumen 3 lamp", "Lumen 5 lamp")
    docs_shape = question_shape("Should I use a Group or a CommandCollection to merge two groups?", nlp)
    assert docs_shape.options == ("Group", "CommandCollection") and not docs_shape.yes_no


@pytest.mark.parametrize(
    ("question", "label"),
    [
        ("Who designed the harbour bridge in Port Elin?", "PERSON"),
        ("How many copies does the backup keep?", "CARDINAL"),
        ("When did the bridge open?", "DATE"),
        ("In which country was the lamp made?", "GPE"),
        ("What does the lazy flag change?", None),
        ("Which environment variable names the data file?", "CODE"),
        ("What command-line option turns on branch measurement?", "CODE"),
        ("What is the flag for?", None),
    ],
)
def test_the_question_word_sets_the_expected_answer_type(nlp, question: str, label: str | None):
    expected = question_shape(question, nlp).expected_labels
    assert label in expected if label else not expected


def test_demo_candidates_hold_the_answer_and_leave_out_what_the_question_names(nlp, demo_questions):
    record = record_answered(demo_questions, "Kansas Song")
    shape = question_shape(record["question"], nlp)
    candidates = answer_candidates(record["question"], supporting_passages(record), nlp, shape)
    texts = [c.text for c in candidates]
    assert "Kansas Song" in texts and len(texts) <= 40
    assert "Lawrence" not in texts and not any(c.in_question for c in candidates)
    song = candidates[texts.index("Kansas Song")]
    assert "TITLE" in song.labels and song.first_rank == 0


def test_docs_candidates_take_code_spans_and_numbers(nlp):
    passage = docs_paragraph("options.md", "count=True")
    question = "How do I make a -v option count how many times it was repeated?"
    candidates = answer_candidates(question, [passage], nlp, question_shape(question, nlp))
    by_text = {c.text: c for c in candidates}
    assert "QUOTED" in by_text["count=True"].labels
    version = docs_paragraph("shell-completion.md", "4.4")
    numbers = answer_candidates("Which Bash version is needed?", [version], nlp, OPEN)
    assert "4.4" in [c.text for c in numbers]


PARSED_PASSAGES = [
    ("pymdownx_docs/extensions/highlight.md", "Which option turns on language guessing for plain code blocks?"),
    ("pymdownx_docs/extensions/superfences.md", "Which option lets fences be nested under list items?"),
    ("coverage_docs/config.rst", "Which environment variable names a different configuration file?"),
    ("click_docs/options.md", "Which keyword argument makes an option count its repetitions?"),
]
MARKUP_DEBRIS = re.compile(r"```|///|!!!|===|--8<--|hl_lines=|linenums=|https?://|\{[:!]|^\.\. |^#|^:\w+:")


@pytest.mark.parametrize(("page", "question"), PARSED_PASSAGES, ids=[page for page, _ in PARSED_PASSAGES])
def test_candidates_from_parsed_docs_pages_hold_code_names_and_no_markup_debris(
    nlp, settings, embedder, page: str, question: str
):
    """Every chunk of the page, as the default chunker cuts it, is a passage."""
    from lab.kb import make_chunker
    from lab.kb.loaders import load_documents

    document, = load_documents(DOCS.parent / page)
    chunker = make_chunker("recursive", embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, None)
    passages = [Passage(i, document.title, 1.0, document.text[span.start : span.end])
                for i, span in enumerate(chunker.split(document.text))]
    candidates = answer_candidates(question, passages, nlp, question_shape(question, nlp), limit=10_000)
    from_prose = [c.text for c in candidates if not c.labels & {"CODE", "QUOTED"}]

    assert not [text for text in from_prose if MARKUP_DEBRIS.search(text)], "code may show markup; prose may not"
    assert sum("CODE" in c.labels for c in candidates) > 10


def test_a_code_block_offers_its_options_settings_and_names_and_prose_offers_bare_options(nlp):
    text = ("Run it with a limit:\n\n```\nwidget serve --max-workers=4\nexport WIDGET_HOME=/srv/widget\n"
            "config.load(strict_mode=True)\n```\n\nThe --dry-run flag only prints what would change.")
    candidates = answer_candidates("Which flag prints the changes only?", [Passage(0, "Serve", 1.0, text)], nlp, OPEN)
    code = {c.text for c in candidates if "CODE" in c.labels}

    assert {"--max-workers=4", "WIDGET_HOME=/srv/widget", "config.load", "strict_mode=True", "--dry-run"} <= code
    assert "widget serve" not in {c.text for c in candidates}, "spaCy reads the prose only"


def test_the_ranking_adds_priors_agreement_and_a_share_of_the_closed_book_likelihood():
    person = Candidate("Mara Holt", 0, passages={0, 1, 2}, labels={"PERSON"})
    shape = QuestionShape(False, (), frozenset({"PERSON"}))
    plain = RankingWeights(
        calibration=0.0, answer_type=0.0, agreement=0.0, passage_rank=0.0, closeness=0.0, generation=0.0
    )
    assert ranking_score(person, -4.0, -9.0, shape, plain) == -4.0
    pmi = replace(plain, calibration=1.0)
    assert ranking_score(person, -4.0, -9.0, shape, pmi) == 5.0
    priors = replace(plain, answer_type=1.5, agreement=1.0, passage_rank=0.5)
    later = Candidate("Mara Holt", 2, passages={2}, labels={"ORG"})
    assert ranking_score(person, -4.0, 0.0, shape, priors) == pytest.approx(-4.0 + 1.5 + 1.0986, abs=1e-3)
    assert ranking_score(later, -4.0, 0.0, shape, priors) == -5.0
    written = replace(plain, generation=4.0)
    assert ranking_score(person, -4.0, 0.0, shape, written, generated="the engineer Mara Holt") == pytest.approx(
        -4.0 + 4.0 * 0.8
    )
    assert ranking_score(person, -4.0, 0.0, shape, written, generated="Port Elin") == -4.0


def selected(question: str, passages: list[Passage], ctx: LabContext) -> tuple[list, Trace]:
    """The ranked candidates for `question`, read in a stage "generate" of a fresh trace."""
    trace = Trace()
    with trace.stage("generate"):
        ranked = rank_candidates(question, passages, answer_prompt(question, passages), ctx, trace)
    return ranked, trace


def test_the_embedded_model_selects_the_demo_answer_in_one_scoring_call(demo_ctx: LabContext, demo_questions):
    record = record_answered(demo_questions, "Eenasul Fateh")
    ranked, trace = selected(record["question"], supporting_passages(record), demo_ctx)
    assert ranked[0].text == "Eenasul Fateh"
    assert [call.path for call in trace.scoring_calls] == ["likelihood"]
    assert trace.scoring_calls[0].options == len(ranked) > 5
    shown = trace.stages[0].detail["candidates"]
    assert shown[0]["text"] == "Eenasul Fateh" and len(shown) == 5
    assert shown == sorted(shown, key=lambda c: -c["score"])


def test_the_embedded_model_selects_the_docs_answer(demo_ctx: LabContext):
    passage = docs_paragraph("shell-completion.md", "4.4")
    question = "What is the oldest Bash version that Click's tab completion works with?"
    ranked, _ = selected(question, [passage], demo_ctx)
    assert ranked[0].text == "4.4"


def test_a_yes_no_question_is_scored_as_yes_against_no_in_one_call_with_no_prior_between_them(
    demo_ctx: LabContext, demo_questions
):
    record = record_answered(demo_questions, "yes")
    ranked, trace = selected(record["question"], supporting_passages(record), demo_ctx)
    assert sorted(r.text for r in ranked) == ["no", "yes"]
    assert trace.stages[0].detail["question_shape"] == "yes/no"
    assert [call.path for call in trace.scoring_calls] == ["likelihood"] and trace.scoring_calls[0].options == 2
    assert all(r.score == r.likelihood for r in ranked)


AFFIRMED_OR_DENIED = [
    ("Brio kettle manual", "Does the Brio kettle switch itself off when the water boils?",
     "The Brio kettle switches itself off when the water boils.",
     "The Brio kettle does not switch itself off; unplug it when the water boils."),
    ("Corvo drill manual", "Is the Corvo drill waterproof?",
     "The Corvo drill is waterproof.", "The Corvo drill is not waterproof."),
    ("Aero fan manual", "Can the Aero fan be used outdoors?",
     "The Aero fan can be used outdoors.", "The Aero fan cannot be used outdoors."),
]
"""One question each, with a passage that says yes and one that says no: made-up products, so no model knows
the answer from memory."""


def yes_lead(question: str, title: str, text: str, ctx: LabContext) -> float:
    """How far "yes" outscores "no" when the question is read from this one passage."""
    ranked, _ = selected(question, [Passage(0, title, 1.0, text)], ctx)
    scores = {r.text: r.score for r in ranked}
    return scores["yes"] - scores["no"]


@pytest.mark.parametrize(
    ("title", "question", "affirming", "denying"), AFFIRMED_OR_DENIED, ids=[pair[0] for pair in AFFIRMED_OR_DENIED]
)
def test_a_passage_that_says_yes_moves_the_pick_further_toward_yes_than_one_that_says_no(
    demo_ctx: LabContext, title: str, question: str, affirming: str, denying: str
):
    """The model reads the evidence: the same question leans further to "yes" after a passage that affirms it.

    The pick itself is not yet right both ways (see the next test): the 270M base model leans to "yes" on most
    questions whatever the passage says, so this relation, not the pick, is what it can be held to."""
    assert yes_lead(question, title, affirming, demo_ctx) > yes_lead(question, title, denying, demo_ctx)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason='Gemma 3 270M base leans to "yes": after "The Corvo drill is not waterproof." it still scores yes 1.8 '
    "nats over no (measured on the embedded GGUF through llama.cpp). Passing means a better model or prompt: "
    "drop this mark.",
)
def test_a_yes_no_pick_is_yes_when_the_passage_affirms_and_no_when_it_denies(demo_ctx: LabContext):
    title, question, affirming, denying = AFFIRMED_OR_DENIED[1]
    assert yes_lead(question, title, affirming, demo_ctx) > 0 > yes_lead(question, title, denying, demo_ctx)


def test_auto_selects_with_the_embedded_base_model(generator):
    assert generator.capabilities.base_model
    assert resolved_answer_mode("auto", generator) == "select"
    assert resolved_answer_mode("generate", generator) == "generate"


def test_select_mode_writes_the_answer_when_the_passages_offer_no_candidate(demo_ctx: LabContext):
    selecting = replace(demo_ctx, settings=demo_ctx.settings.model_copy(update={"answer_mode": "select"}))
    trace = Trace()
    with trace.stage("generate"):
        text = read_passages("What about the Lamp?", [Passage(0, "Lamp", 1.0, "and so on")], selecting, trace)
    assert len(trace.llm_calls) == 1 and not trace.scoring_calls
    assert "written" in trace.stages[0].detail["fallback"] and isinstance(text, str)
