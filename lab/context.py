"""What a strategy receives and what it must be: `LabContext`, the `Strategy` protocol, `build_context`.

This module sits above the knowledge base, the graph and the LLM rooms because a context holds one of
each; strategies, the agent and the shared steps import it, and nothing below it does.

Models are loaded here, once per context, and passed down: the generator, the embedder and the spaCy
pipeline (`extractor`). The entity graph is read through the context's `GraphCache`, once per state of
the KB; contexts made from one another (`dataclasses.replace`) share that cache. The web lab loads the
three models once per process and builds a context per KB on them (`context_with_models`).
"""

import logging
from dataclasses import dataclass, field, replace
from typing import ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from lab.core.contracts import Answer, Retrieval
from lab.core.placement import resolve_placement
from lab.core.settings import LabSettings
from lab.graph import EntityExtractor, EntityGraph, GraphCache
from lab.kb.embedding import Embedder, load_embedder
from lab.kb.knowledge_base import KnowledgeBase, KnowledgeBaseError
from lab.llm.backend import Generator
from lab.llm.loading import load_generator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabContext:
    """Everything a strategy may use, loaded once and shared by every strategy in a comparison."""

    settings: LabSettings
    generator: Generator
    embedder: Embedder
    kb: KnowledgeBase
    extractor: EntityExtractor
    graphs: GraphCache | None = field(default=None, repr=False, compare=False)
    """Where the KB's graph is read; made for the extractor when not given, kept by `replace`."""

    def __post_init__(self) -> None:
        if self.graphs is None:
            object.__setattr__(self, "graphs", GraphCache(self.extractor))

    @property
    def graph(self) -> EntityGraph:
        """The KB's entity graph, read once per state of the KB (after an ingest, read anew)."""
        return self.graphs.graph(self.kb.database_path)


class Strategy(Protocol):
    """One file under `strategies/`: a slug, a docstring saying idea, source and cost, typed parameters.

    `Params` is a nested pydantic model whose fields carry defaults and ranges; the constructor takes
    one (None means the defaults) and loads nothing heavy. `stages` names, in order, the stages the
    trace of `answer` will hold with these parameters.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    stages: tuple[str, ...]

    def answer(self, question: str, ctx: LabContext) -> Answer: ...


@runtime_checkable
class RetrievingStrategy(Strategy, Protocol):
    """A strategy whose passages can be had without generating the answer, as a retrieval bench wants.

    `answer` is then `retrieve` followed by one generation over the passages (`lab.steps.reading`).
    """

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval: ...


def with_kv_mode(ctx: LabContext, kv_mode: str) -> LabContext:
    """The same context, its generator keeping the KV cache in `kv_mode`; only an in-process transformers model can."""
    switch = getattr(ctx.generator, "with_kv_mode", None)
    if switch is None:
        raise ValueError(
            f"KV-cache mode {kv_mode!r} needs the transformers backend (the {ctx.generator.backend} backend keeps its "
            "own cache); run with --backend transformers."
        )
    return replace(ctx, generator=switch(kv_mode))


def build_context(settings: LabSettings, kb_name: str) -> LabContext:
    """Open the KB first, so a missing or empty one fails before any model loads."""
    kb = _open_filled(settings, kb_name)
    placement = resolve_placement(settings)
    embedder = load_embedder(settings, placement)
    extractor = EntityExtractor.load(settings.spacy_model)
    return _ready(settings, kb, embedder, load_generator(settings, placement), extractor)


def context_with_models(
    settings: LabSettings, kb_name: str, embedder: Embedder, generator: Generator, extractor: EntityExtractor
) -> LabContext:
    """A context on models already loaded: the web lab loads them once per process and shares them across KBs."""
    return _ready(settings, _open_filled(settings, kb_name), embedder, generator, extractor)


def _open_filled(settings: LabSettings, kb_name: str) -> KnowledgeBase:
    kb = KnowledgeBase.open(settings.home, kb_name)
    if kb.chunk_count == 0:
        raise KnowledgeBaseError(
            f"Knowledge base {kb_name!r} has no chunks yet. Add documents with: raglab ingest PATH --kb {kb_name}"
        )
    return kb


def _ready(
    settings: LabSettings, kb: KnowledgeBase, embedder: Embedder, generator: Generator, extractor: EntityExtractor
) -> LabContext:
    kb.check_embedder(embedder)
    kb.repair(embedder)
    log.info("Context ready: %s with %s", kb.name, generator.describe().get("model", generator.backend))
    return LabContext(settings=settings, generator=generator, embedder=embedder, kb=kb, extractor=extractor)
