"""Time to build the entity graph of the demo corpus (199 HotpotQA paragraphs); the target is under 30 s on CPU.

The demo file is ingested (embedded, without the graph) into a knowledge base in a temporary lab home;
then the graph is built from scratch and timed in its parts: loading the spaCy pipeline, reading the
entities and relations of every chunk (`nlp.pipe`, batched) and writing them, and loading the networkx
view with its Louvain communities and summaries.

    .venv/bin/python bench/graph_build.py
"""

import tempfile
import time
from pathlib import Path

import lab  # noqa: F401
from lab.core import LabSettings, resolve_placement
from lab.graph import EntityExtractor, EntityGraph, update_graph
from lab.ingestion import DEMO_FILE
from lab.kb import KnowledgeBase, load_embedder, make_chunker

TARGET_SECONDS = 30.0


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        settings = LabSettings(home=Path(home))
        embedder = load_embedder(settings, resolve_placement(settings))
        kb = KnowledgeBase.open(settings.home, "demo", create=True)
        chunker = make_chunker(settings.chunker, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, None)
        report = kb.ingest([DEMO_FILE], embedder, chunker)
        print(f"demo KB: {report.documents_added} paragraphs, {report.chunks_added} chunks (ingested without the graph)")

        started = time.perf_counter()
        extractor = EntityExtractor.load(settings.spacy_model)
        loaded = time.perf_counter()
        chunks = update_graph(kb.database_path, extractor)
        extracted = time.perf_counter()
        graph = EntityGraph.load(kb.database_path)
        communities = graph.communities
        viewed = time.perf_counter()
        kb.close()

    build = viewed - loaded
    print(f"spaCy pipeline {settings.spacy_model!r} loaded in {loaded - started:.1f} s")
    print(f"entities and relations of {chunks} chunks read and stored in {extracted - loaded:.1f} s")
    print(f"graph view and {len(communities)} communities in {viewed - extracted:.1f} s")
    stats = graph.stats(top=5)
    print(f"graph: {stats['nodes']} entities, {stats['edges']} edges, {stats['relations']} relations")
    verdict = "within" if build < TARGET_SECONDS else "OVER"
    print(f"graph build (without loading spaCy): {build:.1f} s, {verdict} the {TARGET_SECONDS:.0f} s target")


if __name__ == "__main__":
    main()
