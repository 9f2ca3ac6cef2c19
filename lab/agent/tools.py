"""The agent's retrieval actions: dense search, keyword search and a lookup in the entity graph.

A tool is what the loop can choose by name and run on an input text; how each one finds passages is kept
here, apart from the loop that decides when to call them. Which entities a text names is the graph room's
(`lab.graph.linking`), shared with Graph RAG.
"""

from collections.abc import Collection, Sequence
from typing import Protocol

from lab.agent.records import ToolResult
from lab.context import LabContext
from lab.core.contracts import Passage
from lab.graph.entity_graph import EntityGraph
from lab.graph.linking import named_entities, pages_named_by
from lab.kb.embedding import Embedder
from lab.kb.knowledge_base import KnowledgeBase
from lab.steps.fusion import reciprocal_rank_fusion

FUSION_DEPTH = 20
"""Hits of each retriever the hybrid search tool fuses; chosen by hand, not searched."""


class Tool(Protocol):
    """A retrieval action: a name the generator can choose, and a run from an input text to passages."""

    name: str

    def run(self, query: str, k: int) -> ToolResult: ...


class DenseSearch:
    """Similarity search; with `fuse_keywords`, BM25's hits are fused in by rank, which finds the exact
    names, options and numbers of technical documents that embeddings blur."""

    name = "search"

    def __init__(self, kb: KnowledgeBase, embedder: Embedder, fuse_keywords: bool = False):
        self.kb, self.embedder, self.fuse_keywords = kb, embedder, fuse_keywords

    def run(self, query: str, k: int) -> ToolResult:
        if not self.fuse_keywords:
            passages = tuple(self.kb.dense_search(self.embedder.embed(query), k))
            return ToolResult(passages, _found(passages))
        depth = max(k, FUSION_DEPTH)
        rankings = [self.kb.dense_search(self.embedder.embed(query), depth), self.kb.keyword_search(query, depth)]
        passages = tuple(reciprocal_rank_fusion(rankings, limit=k))
        return ToolResult(passages, _found(passages))


class KeywordSearch:
    name = "keyword"

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb

    def run(self, query: str, k: int) -> ToolResult:
        passages = tuple(self.kb.keyword_search(query, k))
        return ToolResult(passages, _found(passages))


class GraphLookup:
    """An entity's page, then the pages of its neighbours (strongest link and closest to the input first),
    then other chunks that mention it. A page its own page spells out counts as a neighbour even where NER
    missed the name ("WINNER"), as in Graph RAG. The observation is the neighbourhood in words."""

    name = "graph"

    def __init__(self, graph: EntityGraph, kb: KnowledgeBase, embedder: Embedder):
        self.graph, self.kb, self.embedder = graph, kb, embedder

    def run(self, query: str, k: int) -> ToolResult:
        keys = named_entities(query, self.graph)
        if not keys:
            return ToolResult((), f"no entity of the graph is named in {query!r}")
        vector = self.embedder.embed(query)
        scored: dict[int, float] = {}
        links = []
        for key in keys:
            for chunk_id in self.graph.pages_of(key):
                scored[chunk_id] = max(scored.get(chunk_id, 0.0), 3.0)
            weights = self.graph.neighbours(key)
            strongest = max(weights.values(), default=1.0)
            strengths = {n: weight / strongest * self.graph.specificity(n) for n, weight in weights.items()}
            for page in pages_named_on(key, self.graph, self.kb):
                strengths[page] = max(strengths.get(page, 0.0), self.graph.specificity(page))
            neighbours: dict[int, float] = {}
            for neighbour, strength in strengths.items():
                for chunk_id in self.graph.pages_of(neighbour):
                    neighbours[chunk_id] = max(neighbours.get(chunk_id, 0.0), 1.0 + strength)
            for chunk_id in self.graph.chunks_mentioning(key) - self.graph.pages_of(key):
                neighbours.setdefault(chunk_id, 0.5)
            similarity = self.kb.similarities(vector, neighbours)
            for chunk_id, strength in neighbours.items():
                scored.setdefault(chunk_id, strength + similarity.get(chunk_id, 0.0))
            links.extend(item["link"] for item in self.graph.neighbourhood(key, limit=3))
        best = sorted(scored, key=lambda c: (-scored[c], c))[:k]
        passages = tuple(self.kb.passages([(c, scored[c]) for c in best]))
        named = ", ".join(self.graph.name(key) for key in keys)
        return ToolResult(passages, f"{named}: {'; '.join(links) or 'no links'}. {_found(passages)}")


def linked_passages(
    kb: KnowledgeBase, embedder: Embedder, question: str, sources: Sequence[Passage], found: Collection[str]
) -> ToolResult:
    """The passages the sources link to, one per link target not found yet: the linked section, or the
    linked page's chunk closest to the question; closest first."""
    vector = embedder.embed(question)
    best: dict[int, float] = {}
    for source in sources:
        for chunk_ids in kb.linked_chunks(source.chunk_id):
            similarity = kb.similarities(vector, chunk_ids) or {chunk_ids[0]: 0.0}
            chunk_id = max(similarity, key=lambda c: (similarity[c], -c))
            best.setdefault(chunk_id, similarity[chunk_id])
    ranked = sorted(best, key=lambda c: (-best[c], c))
    per_page: dict[str, Passage] = {}
    for passage in kb.passages([(c, best[c]) for c in ranked]):
        if passage.doc_title not in found:
            per_page.setdefault(passage.doc_title, passage)
    passages = tuple(per_page.values())
    return ToolResult(passages, _found(passages) if passages else "the passages link to nothing not found yet")


def default_tools(ctx: LabContext, hybrid_search: bool = False) -> list[Tool]:
    """Dense (or hybrid) search, keyword search and, when the knowledge base has an entity graph, the graph lookup."""
    tools: list[Tool] = [DenseSearch(ctx.kb, ctx.embedder, hybrid_search), KeywordSearch(ctx.kb)]
    graph = ctx.graph
    if not graph.is_empty:
        tools.insert(0, GraphLookup(graph, ctx.kb, ctx.embedder))
    return tools


def pages_named_on(key: str, graph: EntityGraph, kb: KnowledgeBase) -> set[str]:
    """Entities with a page of their own that the entity's own page spells out, NER or not."""
    chunks = kb.chunks(sorted(graph.pages_of(key)))
    return pages_named_by(key, graph, (chunk.text for chunk in chunks.values()))


def _found(passages: Sequence[Passage]) -> str:
    if not passages:
        return "no passages"
    return f"{len(passages)} passages: " + "; ".join(dict.fromkeys(p.doc_title for p in passages))
