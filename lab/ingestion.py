"""Ingest at the edge: load what ingest needs (the embedder; the generator only for the llm chunker).

It sits above the knowledge base and the graph because it joins them: the KB writes chunks, then the
entity graph reads their entities. It also names the bundled demos: a corpus in `datasets/` and its
questions, each built into a knowledge base of its own, so a question set is always asked of its corpus.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lab.core.placement import resolve_placement
from lab.core.settings import LabSettings
from lab.graph.entities import EntityExtractor
from lab.graph.graph_store import update_graph
from lab.kb.chunking import Chunker, make_chunker
from lab.kb.embedding import Embedder, load_embedder
from lab.kb.knowledge_base import (
    IngestReport,
    KnowledgeBase,
    ProgressCallback,
    _no_progress,
    knowledge_base_names,
)
from lab.llm.loading import load_generator

DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"


@dataclass(frozen=True)
class BundledDemo:
    """A corpus and its questions shipped in `datasets/`, built into a knowledge base of its own on request."""

    kb_name: str
    label: str
    description: str
    sources: tuple[Path, ...]
    questions: Path
    held_out: bool = False
    """Questions kept from design: read only in the final report, never to choose a rule or default."""


class UnknownDemo(ValueError):
    pass


DEMO_KB = "demo"
DEMO_FILE = DATASETS_DIR / "hotpotqa_dev_sample.json"
DOCS_DEMO_KB = "docs-demo"
DOCS_DEMO_DIR = DATASETS_DIR / "click_docs"
DOCS_DEMO_QUESTIONS = DATASETS_DIR / "click_docs_questions.jsonl"

BUNDLED_DEMOS: dict[str, BundledDemo] = {
    demo.kb_name: demo
    for demo in (
        BundledDemo(
            DEMO_KB, "HotpotQA multi-hop",
            "20 multi-hop questions over 199 encyclopedia paragraphs (CC BY-SA 4.0; see datasets/README.md)", (DEMO_FILE,), DEMO_FILE,
        ),
        BundledDemo(
            DOCS_DEMO_KB, "Click documentation",
            "33 questions over 34 Markdown pages of the Click 8.5.1 docs (BSD-3-Clause)",
            (DOCS_DEMO_DIR,), DOCS_DEMO_QUESTIONS,
        ),
    )
}
"""The bundled demos by knowledge-base name, in the order the pages offer them; datasets/README.md describes each."""

EVALUATION_CORPORA: dict[str, BundledDemo] = {
    **BUNDLED_DEMOS,
    **{
        corpus.kb_name: corpus
        for corpus in (
            BundledDemo(
                "coverage-docs", "coverage.py documentation",
                "30 questions over 34 reStructuredText pages of the coverage.py 7.18.0 docs (Apache-2.0)",
                (DATASETS_DIR / "coverage_docs",), DATASETS_DIR / "coverage_docs_questions.jsonl",
            ),
            BundledDemo(
                "pymdownx-docs", "PyMdown Extensions documentation",
                "30 questions over 43 MkDocs Markdown pages of the pymdown-extensions 13.1.2 docs (MIT)",
                (DATASETS_DIR / "pymdownx_docs",), DATASETS_DIR / "pymdownx_docs_questions.jsonl",
            ),
            BundledDemo(
                "griffe-docs", "Griffe documentation (held out)",
                "30 questions over 54 MkDocs Markdown pages of the griffe 2.4.1 docs (ISC)",
                (DATASETS_DIR / "griffe_docs",), DATASETS_DIR / "griffe_docs_questions.jsonl", held_out=True,
            ),
        )
    },
}
"""Every corpus with questions in `datasets/`: the demos, and the documentation corpora in other formats that
the answer-quality benches report (the held-out one was read only for the final figures)."""


def ingest_paths(
    settings: LabSettings,
    kb_name: str,
    paths: Iterable[Path],
    chunker_name: str | None = None,
    on_progress: ProgressCallback = _no_progress,
) -> IngestReport:
    placement = resolve_placement(settings)
    embedder = load_embedder(settings, placement)
    generator = cache(lambda: load_generator(settings, placement))
    chunker = make_chunker(
        chunker_name or settings.chunker, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, generator
    )
    return ingest_with_chunker(settings, kb_name, paths, embedder, chunker, on_progress)


def ingest_with_chunker(
    settings: LabSettings,
    kb_name: str,
    paths: Iterable[Path],
    embedder: Embedder,
    chunker: Chunker,
    on_progress: ProgressCallback = _no_progress,
) -> IngestReport:
    """Ingest with models already loaded (the chunking study reuses one embedder and generator for every chunker)."""
    kb = KnowledgeBase.open(settings.home, kb_name, create=True)
    try:
        entities = EntityExtractor.load(settings.spacy_model)
        return kb.ingest(
            paths, embedder, chunker, index_kind=settings.index_kind, on_progress=on_progress,
            after_write=lambda path, progress: update_graph(path, entities, progress),
            batch_chunks=settings.ingest_batch_chunks,
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
    return build_bundled_demo(settings, DEMO_KB, on_progress)


def bundled_demo(kb_name: str) -> BundledDemo:
    if kb_name not in EVALUATION_CORPORA:
        raise UnknownDemo(
            f"No bundled demo {kb_name!r}; known: {', '.join(EVALUATION_CORPORA)}. "
            "Bundled corpora are listed in BUNDLED_DEMOS and EVALUATION_CORPORA in lab/ingestion.py."
        )
    return EVALUATION_CORPORA[kb_name]


def build_bundled_demo(
    settings: LabSettings, kb_name: str, on_progress: ProgressCallback = _no_progress
) -> IngestReport:
    """Ingest a bundled demo's sources into its own knowledge base; unchanged files are skipped on a rebuild."""
    demo = bundled_demo(kb_name)
    return ingest_paths(settings, demo.kb_name, demo.sources, on_progress=on_progress)


def demo_kb_missing(settings: LabSettings, kb_name: str) -> bool:
    """Whether `kb_name` names a bundled demo before it is built: the CLI then builds it on first use."""
    return kb_name in BUNDLED_DEMOS and kb_name not in knowledge_base_names(settings.home)


def preview_chunks(settings: LabSettings, text: str, chunker_name: str, embedder: Embedder) -> list[str]:
    """The chunks a chunker would make of one sample text, before anything is ingested."""
    chunker = make_chunker(
        chunker_name, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens,
        cache(lambda: load_generator(settings, resolve_placement(settings))),
    )
    return [text[span.start : span.end] for span in chunker.split(text)]
