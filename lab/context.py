"""`build_context`: load the models and open the knowledge base once, for every strategy to share."""

import logging

from lab.contracts import LabContext
from lab.knowledge_base import KnowledgeBase, KnowledgeBaseError
from lab.models import load_embedder, load_generator, resolve_placement
from lab.settings import LabSettings

log = logging.getLogger(__name__)


def build_context(settings: LabSettings, kb_name: str) -> LabContext:
    """Open the KB first, so a missing or empty one fails before any model loads."""
    kb = KnowledgeBase.open(settings.home, kb_name)
    if kb.chunk_count == 0:
        raise KnowledgeBaseError(
            f"Knowledge base {kb_name!r} has no chunks yet. Add documents with: raglab ingest PATH --kb {kb_name}"
        )
    placement = resolve_placement(settings)
    embedder = load_embedder(settings, placement)
    kb.check_embedder(embedder)
    kb.repair(embedder)
    generator = load_generator(settings, placement)
    log.info("Context ready: %s on %s (%s)", kb_name, placement.device, placement.dtype)
    return LabContext(settings=settings, generator=generator, embedder=embedder, kb=kb)
