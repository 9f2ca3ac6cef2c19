"""Graph RAG: link the question's entities to the entity graph, walk up to two hops, answer with the chain.

Multi-hop questions name one entity and ask about another that only a passage about the first one names
("the director of X was born where?"): similarity to the question finds the first passage, rarely the
second. Walking the graph from the named entity to the entities its passages mention (the bridge)
reaches the second, as in HippoRAG (Gutiérrez et al., 2024) and GraphRAG's local search (Edge et al., 2024).
A chunk's graph evidence is the entities the walk reached that it mentions, each weighted by how strongly
it was reached, how specific it is (an idf) and whether the chunk is its own page; chunks are then picked
greedily by similarity plus the evidence they add beyond the chunks already picked, so the top-k holds the
seed's page and the bridge's page rather than five pages repeating the seed.

Technical documents link few entities (option names, commands), so the walk often reaches little there,
and a name much of the corpus shares (the product's own) would reach everything: it is not walked from.
On the docs demo that lifted two-page recall@5 from 0.86 to 0.95 and left the HotpotQA demo's unchanged.
Each chunk already picked from a document costs the next one from it, or a long page split into chunks
fills the top k by itself. BM25's hits can also join the candidates with a share of their keyword score
(exact names and numbers, which embeddings blur): on the docs demo that lifts two-page recall further, but
it reorders the HotpotQA demo's passages for the worse, so it is off by default (docs/answer-quality.md).

Cost: a spaCy pass and an embedding for the question, a walk over a few hundred edges, one dense and one
keyword search, one generation. With nothing to link it ranks those hits alone and says so in its trace.
Left out: an LLM extracting entities or triples (the embedded generator is too small to be trusted with either).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from lab.context import LabContext
from lab.core import Answer, Passage, Retrieval, Trace
from lab.graph import COMMON_SHARE, EntityGraph, link_entities, pages_named_by
from lab.steps import read_passages

HOME_WEIGHT = 1.0
MENTION_WEIGHT = 0.5
"""A walked entity's own page counts twice a chunk that only mentions it. Chosen by hand when graph was
written, not searched; `bench/answers.py` reads graph at these values on every question of both demos."""
MAX_WALKED_CHUNKS = 200
"""A cost bound on the chunks one walk scores, chosen by hand, not tuned."""


@dataclass(frozen=True)
class Reached:
    """An entity the walk reached: how strongly, and by which path from a linked entity."""

    key: str
    strength: float
    path: tuple[str, ...]


SEARCHED_CANDIDATES = {"search": (0, 100)}
"""A tuning search tries up to 100 hits beside the walk's chunks, not the 1,000 a user may ask for. A bound on the
search's cost chosen by hand, not measured: the default is 30."""


class GraphRAG:
    name = "graph"
    description = __doc__
    stages = ("link", "expand", "rank", "generate")

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        hops: int = Field(2, ge=0, le=2, description="How far the walk goes from a linked entity.")
        hop_decay: float = Field(0.5, ge=0.0, le=1.0, description="Strength kept per hop.")
        max_frontier: int = Field(40, ge=1, le=1000, description="Entities kept at each hop, strongest first.")
        graph_weight: float = Field(1.0, ge=0.0, le=5.0, description="Graph evidence against cosine similarity.")
        min_name_ratio: float = Field(88.0, ge=50.0, le=100.0, description="rapidfuzz ratio to link a misspelt name.")
        dense_candidates: int = Field(30, ge=0, le=1000, json_schema_extra=SEARCHED_CANDIDATES,
                                      description="Dense hits ranked beside the walk's chunks.")
        keyword_candidates: int = Field(0, ge=0, le=1000, json_schema_extra=SEARCHED_CANDIDATES,
                                        description="BM25 hits ranked beside the walk's chunks.")
        keyword_weight: float = Field(0.0, ge=0.0, le=5.0,
                                      description="Bonus for a BM25 hit, times its score over the best hit's.")
        repeat_penalty: float = Field(0.1, ge=0.0, le=5.0,
                                      description="Cost of each chunk already picked from the same document.")
        common_share: float = Field(COMMON_SHARE, ge=0.0, le=1.0, description=(
            "A linked entity without a page of its own that more than this share of chunks mention is not walked from."))
        max_chains: int = Field(4, ge=0, le=20, description="Relation chains given to the generator.")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        return self._walk(question, ctx)[0]

    def answer(self, question: str, ctx: LabContext) -> Answer:
        retrieval, chains = self._walk(question, ctx)
        trace = retrieval.trace
        with trace.stage("generate"):
            text = read_passages(question, retrieval.passages, ctx, trace, notes=relation_notes(chains))
        return Answer(self.name, text, retrieval.passages, trace)

    def _walk(self, question: str, ctx: LabContext) -> tuple[Retrieval, list[str]]:
        """The top-k passages and the relation chains that led to them, tracing link, expand and rank."""
        trace = Trace()
        with trace.stage("link"):
            graph = ctx.graph
            linked = link_entities(question, graph, ctx.extractor, self.params.min_name_ratio)
            seeds = {key: value for key, value in linked.items() if not graph.is_common(key, self.params.common_share)}
            trace.note("linked", [graph.name(k) for k in seeds])
            if common := [graph.name(k) for k in linked if k not in seeds]:
                trace.note("not_walked", {"names much of the corpus shares": common})
            if not seeds:
                trace.note("fallback", "nothing in the question to walk from in the graph; dense and keyword search alone")
        with trace.stage("expand"):
            named = {seed: pages_named_near(graph, seed, ctx) for seed in seeds}
            reached = expand(graph, seeds, named, self.params)
            trace.note("reached", len(reached))
        with trace.stage("rank"):
            query_vector = ctx.embedder.embed(question)
            passages = self._pick(graph, reached, question, query_vector, ctx)
            chains = relation_chains(graph, reached, passages, self.params.max_chains)
            trace.note("paths", chains)
        return Retrieval(tuple(passages), trace), chains

    def _pick(
        self,
        graph: EntityGraph,
        reached: dict[str, Reached],
        question: str,
        query_vector: np.ndarray,
        ctx: LabContext,
    ) -> list[Passage]:
        """Greedy: each pick maximizes its relevance (cosine similarity, plus a share of its BM25 score) plus the
        graph evidence it adds to the picks before it, less a cost per chunk already picked from its document."""
        walked = {c for r in reached.values() for c in graph.chunks_mentioning(r.key)}
        walked = sorted(walked, key=lambda c: -_evidence(graph, reached, c, {}))[:MAX_WALKED_CHUNKS]
        keyword = ctx.kb.keyword_search(question, self.params.keyword_candidates) if self.params.keyword_candidates else []
        dense = ctx.kb.dense_search(query_vector, self.params.dense_candidates)
        others = [*walked, *(p.chunk_id for p in keyword)]
        similarity = ctx.kb.similarities(query_vector, others) | {p.chunk_id: p.score for p in dense}
        best_keyword = max((p.score for p in keyword), default=0.0) or 1.0
        for p in keyword:
            similarity[p.chunk_id] += self.params.keyword_weight * p.score / best_keyword
        document_of = {c: chunk.doc_id for c, chunk in ctx.kb.chunks(list(similarity)).items()}
        picked_from: dict[int, int] = {}
        covered: dict[str, float] = {}
        picked: dict[int, float] = {}

        while len(picked) < min(ctx.settings.top_k, len(similarity)):
            scores = {
                c: s + self.params.graph_weight * _evidence(graph, reached, c, covered)
                - self.params.repeat_penalty * picked_from.get(document_of.get(c, -1), 0)
                for c, s in similarity.items()
                if c not in picked
            }
            best = max(scores, key=lambda c: (scores[c], -c))
            picked[best] = scores[best]
            picked_from[document_of.get(best, -1)] = picked_from.get(document_of.get(best, -1), 0) + 1
            for key, is_home in graph.entities_of(best).items():
                covered[key] = max(covered.get(key, 0.0), HOME_WEIGHT if is_home else MENTION_WEIGHT)
        return ctx.kb.passages(list(picked.items()))


def pages_named_near(graph: EntityGraph, seed: str, ctx: LabContext, max_chunks: int = 10) -> set[str]:
    """Entities with a page of their own named in the seed's chunks (its page first): first-hop bridges."""
    chunks = ctx.kb.chunks(graph.chunks_page_first(seed)[:max_chunks])
    return pages_named_by(seed, graph, (chunk.text for chunk in chunks.values()))


def expand(
    graph: EntityGraph, seeds: dict[str, float], named: dict[str, set[str]], params: GraphRAG.Params
) -> dict[str, Reached]:
    """Walk out from the linked entities; an edge passes on strength in proportion to its weight.

    A neighbour receives the entity's strength times its specificity (a hub such as a country passes on
    little), the hop decay, and the edge's weight relative to the entity's strongest edge. `named` adds
    links of weight 1 from an entity to pages its chunks name that NER missed.
    """
    reached = {key: Reached(key, strength, (key,)) for key, strength in seeds.items()}
    frontier = list(seeds)
    for _ in range(params.hops):
        found: dict[str, Reached] = {}
        for key in frontier:
            weights = graph.neighbours(key)
            for page in named.get(key, ()):
                weights[page] = max(weights.get(page, 0.0), 1.0)
            strongest = max(weights.values(), default=1.0)
            source = reached[key]
            passed = source.strength * graph.specificity(key) * params.hop_decay
            for neighbour, weight in weights.items():
                strength = passed * weight / strongest
                best = found.get(neighbour) or reached.get(neighbour)
                if best is None or (neighbour not in reached and strength > best.strength):
                    found[neighbour] = Reached(neighbour, strength, source.path + (neighbour,))
        frontier = sorted(found, key=lambda k: -found[k].strength)[: params.max_frontier]
        reached.update({k: found[k] for k in frontier})
    return reached


def _evidence(graph: EntityGraph, reached: dict[str, Reached], chunk_id: int, covered: dict[str, float]) -> float:
    """The reached entities a chunk mentions or is the page of, each counted only if it adds to `covered`.

    An entity's page counts until one of its pages is picked; a mention counts until any picked chunk
    has the entity. So the page of a bridge still counts after the seed's page that mentions it is picked.
    """
    total = 0.0
    for key, is_home in graph.entities_of(chunk_id).items():
        weight = HOME_WEIGHT if is_home else MENTION_WEIGHT
        if key in reached and covered.get(key, 0.0) < weight:
            total += weight * reached[key].strength * graph.specificity(key)
    return total


def relation_chains(
    graph: EntityGraph, reached: dict[str, Reached], passages: Sequence[Passage], limit: int
) -> list[str]:
    """The walks that reached the picked chunks' entities, in words, strongest first."""
    paths = {
        reached[key].path
        for p in passages
        for key in graph.entities_of(p.chunk_id)
        if key in reached and len(reached[key].path) > 1
    }
    ranked = sorted(paths, key=lambda path: (-reached[path[-1]].strength, path))
    return [graph.chain(path) for path in ranked[:limit]]


def relation_notes(chains: Sequence[str]) -> list[str]:
    """The relation chains, as one line the answer prompt puts after the passages."""
    return [f"Relations: {'; '.join(chains)}"] if chains else []
