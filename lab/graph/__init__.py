"""The entity graph: spaCy entities, aliases and relations per chunk, their tables in the KB's SQLite file,
the networkx graph with communities that Graph RAG and the agent search, and linking text to its entities.

It imports `lab.core` only; `lab.ingestion` joins it to the knowledge base, `lab.context` holds the graphs.
"""

from lab.graph.communities import Community, write_summaries
from lab.graph.entities import NON_ENTITY_LABELS, EntityExtractor, entity_key
from lab.graph.entity_graph import EntityGraph, GraphCache
from lab.graph.graph_store import unread_chunk_count, update_graph
from lab.graph.linking import COMMON_SHARE, link_entities, named_entities, pages_named_by

__all__ = [
    "COMMON_SHARE",
    "Community",
    "EntityExtractor",
    "EntityGraph",
    "GraphCache",
    "NON_ENTITY_LABELS",
    "entity_key",
    "link_entities",
    "named_entities",
    "pages_named_by",
    "unread_chunk_count",
    "update_graph",
    "write_summaries",
]
