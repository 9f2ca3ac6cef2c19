"""The entity graph: spaCy entities, aliases and relations per chunk, their tables in the KB's SQLite file,
and the networkx graph with communities that Graph RAG and the agent search.

It imports `lab.core` only; `lab.ingestion` joins it to the knowledge base.
"""

from lab.graph.entities import EntityExtractor, NON_ENTITY_LABELS, entity_key
from lab.graph.entity_graph import Community, EntityGraph, open_graph
from lab.graph.graph_store import unread_chunk_count, update_graph

__all__ = [
    "Community",
    "EntityExtractor",
    "EntityGraph",
    "NON_ENTITY_LABELS",
    "entity_key",
    "open_graph",
    "unread_chunk_count",
    "update_graph",
]
