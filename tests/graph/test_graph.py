"""Graph RAG: the entity graph built at ingest, local search over bridges, global search over communities."""

import json
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from app.cli import app
from lab.context import LabContext
from lab.graph.entities import ChunkText, EntityExtractor
from lab.graph.entity_graph import GraphCache
from lab.graph.graph_store import GraphStore, update_graph
from lab.kb.chunking import make_chunker
from lab.kb.knowledge_base import KnowledgeBase
from strategies import get_strategy
from strategies.graph import GraphRAG
from strategies.traditional import TraditionalRAG
from tests.conftest import make_corpus_ctx

QUESTION = "In which city was the director of the film Harrow Quay born?"
BRIDGE_CORPUS = {
    "Harrow Quay": "Harrow Quay is a 1998 thriller film directed by Mirela Vasquez. The film follows a dock worker "
    "in Lisbon who uncovers a smuggling ring, and it won the jury prize at the Venice Film Festival.",
    "Mirela Vasquez": "Mirela Vasquez is a Chilean screenwriter. She was born in Valparaiso and studied drama at the "
    "University of Chile before moving to Europe in 1985.",
    "Dockside Stories": "Dockside Stories is a 2001 thriller film about a dock worker, directed by Tomas Berg. "
    "The director was born in the city of Bergen and shot the film in its harbour.",
    "Harbour Lights": "Harbour Lights is a 1995 crime film directed by Anna Kowalska, who was born in the city of "
    "Gdansk. The film is set among the cranes of a busy quay.",
    "Quay Street": "Quay Street is a street in the old harbour district of Lisbon, where many films were shot. "
    "Several film directors were born in houses along the street.",
}


def titles(passages) -> list[str]:
    return [p.doc_title for p in passages]


def test_given_a_bridge_question_when_graph_retrieves_then_it_finds_both_paragraphs_and_traditional_misses_one(
    settings, embedder, generator, tmp_path, extractor
):
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path, "bridge", BRIDGE_CORPUS)
    top_3 = settings.model_copy(update={"top_k": 3})
    ctx = LabContext(settings=top_3, generator=generator, embedder=embedder, kb=ctx.kb, extractor=extractor)

    answer = GraphRAG().answer(QUESTION, ctx)
    traditional = TraditionalRAG().retrieve(QUESTION, ctx)

    assert {"Harrow Quay", "Mirela Vasquez"} <= set(titles(answer.passages))
    assert "Mirela Vasquez" not in titles(traditional.passages)
    stages = {stage.name: stage.detail for stage in answer.trace.stages}
    assert list(stages) == list(GraphRAG.stages)
    assert stages["link"]["linked"] == ["Harrow Quay"]
    assert any("Harrow Quay —directed by→ Mirela Vasquez" in path for path in stages["rank"]["paths"])


def test_given_a_surname_after_the_full_name_when_extracting_then_both_are_one_entity(extractor):
    text = (
        "Scott Derrickson is an American director and screenwriter. Derrickson was born in Denver, "
        "and Derrickson's films include Sinister."
    )

    facts = extractor.extract([ChunkText(chunk_id=1, doc_id=1, title="Sinister (film)", text=text)])[0]

    keys = {m.key: m for m in facts.mentions}
    assert "derrickson" not in keys
    assert keys["scott derrickson"].count == 3
    assert ("scott derrickson", "born in", "denver") in {(r.subject, r.verb, r.object) for r in facts.relations}


def test_given_a_graph_when_a_document_is_added_then_only_its_chunks_are_read_and_its_entities_join(
    settings, embedder, tmp_path, extractor
):
    class ReadingLog(EntityExtractor):
        """The real extractor, noting which documents it is asked to read."""

        def __init__(self, nlp):
            super().__init__(nlp)
            self.read: list[str] = []

        def extract(self, chunks, on_progress=None, batch_size=64):
            self.read.extend(c.title for c in chunks)
            return super().extract(chunks, on_progress, batch_size)

    reading = ReadingLog(extractor.nlp)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "harrow.md").write_text(f"# Harrow Quay\n\n{BRIDGE_CORPUS['Harrow Quay']}\n")
    chunker = make_chunker("recursive", embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, None)
    kb = KnowledgeBase.open(settings.home, "incremental", create=True)
    kb.ingest([folder], embedder, chunker, after_write=lambda path, progress: update_graph(path, reading, progress))
    graphs = GraphCache(reading)
    first = graphs.graph(kb.database_path)
    with GraphStore(kb.database_path) as store:
        first_mentions = store.mentions()

    (folder / "vasquez.md").write_text(f"# Mirela Vasquez\n\n{BRIDGE_CORPUS['Mirela Vasquez']}\n")
    kb.ingest([folder], embedder, chunker, after_write=lambda path, progress: update_graph(path, reading, progress))
    second = graphs.graph(kb.database_path)
    with GraphStore(kb.database_path) as store:
        second_mentions = store.mentions()

    assert reading.read == ["Harrow Quay", "Mirela Vasquez"]
    assert set(first_mentions) < set(second_mentions)
    assert "valparaiso" in second and "valparaiso" not in first
    assert second.has_page("mirela vasquez")


def test_given_text_without_entities_when_asking_graph_then_the_graph_is_empty_and_it_falls_back_to_search(
    settings, embedder, generator, tmp_path, extractor
):
    corpus = {"notes": "the cat sat on the mat. it was warm and quiet there, and nobody came by all afternoon."}
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path, "plain", corpus)

    answer = GraphRAG().answer("where did the cat sit?", ctx)
    overview = get_strategy("graph-global").answer("what happens in these notes?", ctx)

    assert ctx.graph.is_empty
    assert answer.error is None and titles(answer.passages) == ["notes"]
    link = next(stage for stage in answer.trace.stages if stage.name == "link")
    assert link.detail["linked"] == [] and "search alone" in link.detail["fallback"]
    assert titles(overview.passages) == ["notes"] and "dense retrieval" in overview.trace.stages[0].detail["fallback"]



def test_a_name_much_of_the_corpus_shares_without_a_page_is_linked_but_not_walked_from(
    settings, embedder, generator, tmp_path, extractor
):
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path, "shared-name", BRIDGE_CORPUS)
    question = "Which thriller about Harrow Quay was shot in Lisbon?"

    by_default = GraphRAG().retrieve(question, ctx).trace.stages[0].detail
    walking_all = GraphRAG(GraphRAG.Params(common_share=1.0)).retrieve(question, ctx).trace.stages[0].detail

    assert by_default["linked"] == ["Harrow Quay"]
    assert by_default["not_walked"] == {"names much of the corpus shares": ["Lisbon"]}
    assert set(walking_all["linked"]) == {"Harrow Quay", "Lisbon"} and "not_walked" not in walking_all

@pytest.mark.parametrize("answer_mode", ["generate", "select"])
def test_given_communities_when_searching_globally_then_those_holding_the_named_entity_are_mapped_and_their_chunks_read(
    answer_mode, settings, embedder, generator, tmp_path, extractor
):
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path, "global", BRIDGE_CORPUS)
    ctx = replace(ctx, settings=ctx.settings.model_copy(update={"answer_mode": answer_mode}))

    answer = get_strategy("graph-global", communities=2).answer("Which films did Mirela Vasquez direct?", ctx)

    rank, mapped, reduced = answer.trace.stages
    members = {name for community in rank.detail["communities"] for name in community["members"]}
    assert "Mirela Vasquez" in members
    assert len(mapped.detail["partial_answers"]) == len(rank.detail["communities"]) == 2
    assert "Harrow Quay" in titles(answer.passages)
    assert reduced.detail["answer_mode"] == answer_mode
    if answer_mode == "generate":
        assert [call.stage for call in answer.trace.llm_calls] == ["map", "map", "reduce"]
    else:
        assert [call.stage for call in answer.trace.llm_calls] == ["map", "map"]
        assert answer.text in {candidate["text"] for candidate in reduced.detail["candidates"]}


def test_global_search_reads_the_chunks_that_mention_its_communities_members_closest_to_the_question_first(
    settings, embedder, generator, tmp_path, extractor
):
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path, "global-chunks", BRIDGE_CORPUS)
    question = "Which films did Mirela Vasquez direct?"
    graph = ctx.graph

    retrieval = get_strategy("graph-global", communities=2).retrieve(question, ctx)

    chosen = [graph.communities[c["id"]] for c in retrieval.trace.stages[0].detail["communities"]]
    behind = set().union(*(graph.chunks_of(community) for community in chosen))
    similarity = ctx.kb.similarities(embedder.embed(question), behind)
    closest = sorted(behind, key=lambda chunk_id: -similarity[chunk_id])[: ctx.settings.top_k]
    assert [p.chunk_id for p in retrieval.passages] == closest


def test_given_a_kb_when_running_raglab_graph_then_it_prints_stats_and_an_entitys_neighbourhood(
    settings, embedder, generator, tmp_path, monkeypatch, extractor
):
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path, "cli-graph", BRIDGE_CORPUS)
    monkeypatch.setenv("RAGLAB_HOME", str(settings.home))  # restored after the test; --home rewrites it
    runner = CliRunner()
    home = ["--home", str(settings.home)]

    stats = runner.invoke(app, ["graph", "--kb", "cli-graph", "--json", *home])
    neighbourhood = runner.invoke(app, ["graph", "--kb", "cli-graph", "--entity", "vasquez", "--json", *home])

    assert stats.exit_code == 0 and neighbourhood.exit_code == 0, stats.output + neighbourhood.output
    summary = json.loads(stats.stdout)
    assert summary["nodes"] >= 5 and summary["communities"] >= 1 and summary["top_entities"]
    links = json.loads(neighbourhood.stdout)
    assert links["entity"] == "Mirela Vasquez"
    assert "Harrow Quay" in {n["name"] for n in links["neighbours"]}
    assert {"nodes", "edges", "communities"} <= set(links["subgraph"])
    ctx.kb.close()



def test_given_many_chunks_when_reading_the_graph_then_batches_of_whole_documents_build_the_same_graph(
    settings, embedder, tmp_path, monkeypatch, extractor
):
    """The graph is read a few thousand chunks at a time, so memory stays flat; the batches change nothing."""
    from lab.graph import graph_store

    folder = tmp_path / "docs"
    folder.mkdir()
    for title, text in BRIDGE_CORPUS.items():
        (folder / f"{title}.md").write_text(f"# {title}\n\n{text}\n\n{text}\n")
    chunker = make_chunker("fixed", embedder, 24, 4, None)
    mentions = {}
    for batch_chunks in (1, 10_000):
        monkeypatch.setattr(graph_store, "GRAPH_BATCH_CHUNKS", batch_chunks)
        kb = KnowledgeBase.open(settings.home, f"graph-batches-{batch_chunks}", create=True)
        kb.ingest([folder], embedder, chunker)
        read = update_graph(kb.database_path, extractor)
        with GraphStore(kb.database_path) as store:
            mentions[batch_chunks] = sorted(store.mentions())
        assert read == kb.chunk_count > len(BRIDGE_CORPUS)
        kb.close()
    assert mentions[1] == mentions[10_000] and mentions[1]


LONG_PAGE_CORPUS = {
    "Shell Completion": "\n\n".join(
        f"Shell completion, part {n}: the completion script for bash, zsh and fish is generated by the "
        f"program itself when a special environment variable is set, and it completes commands, options "
        f"and values as you type. Completion in shell number {n} needs the program to be installed, not run "
        f"as a script, and the shell must source the generated completion script at startup. "
        * 3
        for n in range(1, 8)
    ),
    "Packaging Entry Points": "Name the function to call in the [project.scripts] table of pyproject.toml; pip "
    "then writes an executable wrapper for it into the environment's bin folder.",
}


def test_a_long_page_does_not_fill_the_top_k_with_or_without_keyword_hits(
    settings, embedder, generator, tmp_path, extractor
):
    ctx = make_corpus_ctx(settings, embedder, generator, extractor, tmp_path, "long-page", LONG_PAGE_CORPUS)
    question = ("Shell completion in bash, zsh and fish needs the program installed rather than run as a script; "
                "which pyproject.toml table declares it?")
    assert len(ctx.kb.dense_search(embedder.embed(question), 10)) >= 6

    similarity_only = GraphRAG(GraphRAG.Params(repeat_penalty=0.0)).retrieve(question, ctx)
    default = GraphRAG().retrieve(question, ctx)
    with_keywords = GraphRAG(GraphRAG.Params(keyword_candidates=20, keyword_weight=0.15)).retrieve(question, ctx)

    assert "Packaging Entry Points" not in titles(similarity_only.passages)
    assert "Packaging Entry Points" in titles(default.passages) and "Packaging Entry Points" in titles(with_keywords.passages)
