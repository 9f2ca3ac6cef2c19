"""Ingest at the edge: load what ingest needs (the embedder; the generator only for the llm chunker).

It sits above the knowledge base and the graph because it joins them: the KB writes chunks, then the
entity graph reads their entities.
"""

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from lab.core.placement import resolve_placement
from lab.core.settings import LabSettings
from lab.graph.entities import EntityExtractor
from lab.graph.graph_store import update_graph
from lab.kb.chunking import make_chunker
from lab.kb.embedding import Embedder, load_embedder
from lab.kb.knowledge_base import (
    IngestReport,
    KnowledgeBase,
    ProgressCallback,
    _no_progress,
    knowledge_base_names,
)
from lab.llm.loading import load_generator

DEMO_KB = "demo"
DEMO_FILE = Path(__file__).resolve().parent.parent / "datasets" / "hotpotqa_dev_sample.json"


def ingest_paths(
    settings: LabSettings,
    kb_name: str,
    paths: Iterable[Path],
    chunker_name: str | None = None,
    on_progress: ProgressCallback = _no_progress,
) -> IngestReport:
    kb = KnowledgeBase.open(settings.home, kb_name, create=True)
    try:
        placement = resolve_placement(settings)
        embedder = load_embedder(settings, placement)
        generator = cache(lambda: load_generator(settings, placement))
        chunker = make_chunker(
            chunker_name or settings.chunker, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, generator
        )
        entities = EntityExtractor.load(settings.spacy_model)
        return kb.ingest(
            paths, embedder, chunker, index_kind=settings.index_kind, on_progress=on_progress,
            after_write=lambda path, progress: update_graph(path, entities, progress),
        )
    finally:
        kb.close()


def ensure_demo_kb(settings: LabSettings, on_progress: ProgressCallback = _no_progress) -> str | None:
    """Build the bundled HotpotQA demo KB when the lab home has no knowledge base at all."""
    if knowledge_base_names(settings.home):
        return None
    build_demo_kb(settings, on_progress)
    return DEMO_KB


def build_demo_kb(settings: LabSettings, on_progress: ProgressCallback = _no_progress) -> IngestReport:
    return ingest_paths(settings, DEMO_KB, [DEMO_FILE], on_progress=on_progress)


def demo_kb_missing(settings: LabSettings, kb_name: str) -> bool:
    """Whether `kb_name` names the bundled demo before it is built: the CLI then builds it on first use."""
    return kb_name == DEMO_KB and DEMO_KB not in knowledge_base_names(settings.home)


def preview_chunks(settings: LabSettings, text: str, chunker_name: str, embedder: Embedder) -> list[str]:
    """The chunks a chunker would make of one sample text, before anything is ingested."""
    chunker = make_chunker(
        chunker_name, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens,
        cache(lambda: load_generator(settings, resolve_placement(settings))),
    )
    return [text[span.start : span.end] for span in chunker.split(text)]
