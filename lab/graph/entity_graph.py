"""The entity graph of a knowledge base, as networkx: entities, their links, communities and an export.

Nodes are entities (`lab.entities`), each with the chunks that mention it and the chunks it is the
title of (its "home"). An edge's weight counts the sentences two entities share, the chunks where one is
the title and the other is mentioned, and the relations between them; its `relations` keep the verbs.
The view is summed from the tables in `lab.graph_store` and cached per knowledge-base state.

Communities are Louvain's (Blondel et al., 2008; networkx, fixed seed, so they are reproducible), each
with an extractive summary: its central entities and, from the chunks that mention most of its members,
the sentence naming most of them. A generator-written summary can replace it (`write_summaries`); it is
kept in the KB file and reused while the community's members are unchanged, as GraphRAG (Edge et al.,
2024) caches its community reports. Left out: hierarchical communities, and re-clustering only the part
of the graph that changed (Louvain on a few thousand nodes takes well under a second).
"""

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from math import log as ln
from pathlib import Path
from typing import Any

import networkx as nx
from rapidfuzz import fuzz, process

from lab.core import examples
from lab.core.text import sentence_spans
from lab.graph.entities import EntityExtractor, abbreviates, capitalized_names, corpus_aliases, entity_key
from lab.graph.graph_store import GraphStore, unread_chunk_count, update_graph

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]
COMMUNITY_SEED = 42
SUMMARY_SENTENCES = 3


@dataclass(frozen=True)
class Community:
    id: int
    members: tuple[str, ...]
    summary: str
    chunk_ids: tuple[int, ...]
    written_by: str

    @property
    def signature(self) -> str:
        return hashlib.sha256("\0".join(sorted(self.members)).encode()).hexdigest()[:16]


class EntityGraph:
    """An immutable view of one knowledge base's graph; reload it (`open_graph`) after an ingest."""

    def __init__(self, path: Path, graph: nx.Graph, chunk_entities: dict[int, dict[str, bool]], fingerprint: str):
        self.path = path
        self.graph = graph
        self.chunk_entities = chunk_entities
        self.fingerprint = fingerprint

    @classmethod
    def load(cls, path: Path) -> "EntityGraph":
        with GraphStore(path) as store:
            fingerprint = store.fingerprint()
            entities = store.entities()
            mentions = store.mentions()
            alias = corpus_aliases(entities, {key for _, key, _, is_title in mentions if is_title})
            graph = nx.Graph()
            for key, name, label in entities:
                if key not in alias:
                    graph.add_node(key, name=name, label=label, chunks=set(), home_chunks=set())
            chunk_entities: dict[int, dict[str, bool]] = defaultdict(dict)
            for chunk_id, key, _, is_title in mentions:
                key = alias.get(key, key)
                graph.nodes[key]["chunks"].add(chunk_id)
                if is_title:
                    graph.nodes[key]["home_chunks"].add(chunk_id)
                chunk_entities[chunk_id][key] = is_title or chunk_entities[chunk_id].get(key, False)
            for a, b, count in store.cooccurrences():
                _add_link(graph, alias.get(a, a), alias.get(b, b), float(count))
            for subject, verb, obj, chunk_id in store.relations():
                subject, obj = alias.get(subject, subject), alias.get(obj, obj)
                _add_link(graph, subject, obj, 1.0, (subject, verb, obj, chunk_id))
        return cls(path, graph, dict(chunk_entities), fingerprint)

    @property
    def is_empty(self) -> bool:
        return self.graph.number_of_nodes() == 0

    def name(self, key: str) -> str:
        return self.graph.nodes[key]["name"]

    def specificity(self, key: str) -> float:
        """1 for an entity one chunk mentions, falling towards 0 for one every chunk mentions (an idf)."""
        n_chunks = max(len(self.chunk_entities), 1)
        mentioned_in = max(len(self.graph.nodes[key]["chunks"]), 1)
        return ln(1 + n_chunks / mentioned_in) / ln(1 + n_chunks)

    def is_common(self, key: str, share: float) -> bool:
        """Mentioned in more than `share` of the chunks and without a page of its own: a name the whole corpus
        shares (a product's name in its own docs, a country in a history), which narrows no search."""
        node = self.graph.nodes[key]
        return not node["home_chunks"] and len(node["chunks"]) > share * max(len(self.chunk_entities), 1)

    def find(self, name: str, min_ratio: float = 88.0) -> list[tuple[str, float]]:
        """Entities a name may stand for, with a confidence in [0, 1]: exact, near spelling, or abbreviation."""
        key = entity_key(name)
        if not key:
            return []
        if key in self.graph:
            return [(key, 1.0)]
        near = process.extract(key, self._keys, scorer=fuzz.ratio, score_cutoff=min_ratio, limit=3)
        if near:
            return [(match, score / 100) for match, score, _ in near]
        longer = [k for k in self._keys if abbreviates(key, k)]
        longer.sort(key=lambda k: -len(self.graph.nodes[k]["chunks"]))
        return [(k, 0.8) for k in longer[:3]]

    @cached_property
    def _keys(self) -> list[str]:
        return list(self.graph.nodes)

    @cached_property
    def _pages(self) -> set[str]:
        return {k for k, home in self.graph.nodes(data="home_chunks") if home}

    def pages_named_in(self, text: str) -> set[str]:
        """Entities with a page of their own whose name the text spells out, NER or not ("WINNER")."""
        return {key for key in capitalized_names(text) if key in self._pages}

    def weighted_degree(self, key: str) -> float:
        return float(self.graph.degree(key, weight="weight"))

    def top_entities(self, n: int = 10) -> list[tuple[str, float]]:
        ranked = sorted(self.graph.nodes, key=lambda k: (-self.weighted_degree(k), k))
        return [(k, self.weighted_degree(k)) for k in ranked[:n]]

    def edge_label(self, a: str, b: str) -> str:
        """How `a` relates to `b` in words: a relation verb read in that direction, if any; "names" without an edge."""
        if not self.graph.has_edge(a, b):
            return "names"
        relations = self.graph.edges[a, b]["relations"]
        verbs = Counter(verb for subject, verb, _, _ in relations if subject == a)
        if verbs:
            return verbs.most_common(1)[0][0]
        if any(subject == b for subject, _, _, _ in relations):
            verb = Counter(verb for _, verb, _, _ in relations).most_common(1)[0][0]
            return f"{verb} (by)"
        return "appears with"

    def chain(self, path: Sequence[str]) -> str:
        """A path of entity keys in words: "Scott Derrickson —born in→ Denver"."""
        text = self.name(path[0])
        for a, b in zip(path, path[1:]):
            text += f" —{self.edge_label(a, b)}→ {self.name(b)}"
        return text

    @cached_property
    def communities(self) -> list[Community]:
        """Louvain communities, largest first, each with its cached or extractive summary."""
        if self.is_empty:
            return []
        groups = nx.community.louvain_communities(self.graph, weight="weight", seed=COMMUNITY_SEED)
        groups = sorted(groups, key=lambda g: (-len(g), min(g)))
        with GraphStore(self.path) as store:
            written = store.summaries()
            texts = store.chunk_texts({c for g in groups for k in g for c in self.graph.nodes[k]["chunks"]})
        communities = []
        for position, group in enumerate(groups):
            members = tuple(sorted(group, key=lambda k: (-self.weighted_degree(k), k)))
            summary, chunk_ids = self._extractive_summary(members, texts)
            community = Community(position, members, summary, chunk_ids, "extractive")
            if community.signature in written:
                text, written_by = written[community.signature]
                community = Community(position, members, text, chunk_ids, written_by)
            communities.append(community)
        return communities

    def chunks_of(self, community: Community) -> set[int]:
        """Every chunk that mentions a member: the part of the corpus the community stands for."""
        return {chunk_id for key in community.members for chunk_id in self.graph.nodes[key]["chunks"]}

    def _extractive_summary(
        self, members: tuple[str, ...], texts: dict[int, tuple[str, str]]
    ) -> tuple[str, tuple[int, ...]]:
        coverage: Counter[int] = Counter()
        for key in members:
            coverage.update(self.graph.nodes[key]["chunks"])
        ranked = sorted(coverage.items(), key=lambda item: (-item[1], item[0]))
        chunk_ids = tuple(c for c, _ in ranked[:SUMMARY_SENTENCES])
        sentences = []
        for chunk_id in chunk_ids:
            _, text = texts.get(chunk_id, ("", ""))
            candidates = [text[s.start : s.end] for s in sentence_spans(text)] or [text]
            best = max(candidates, key=lambda sentence: _members_named(sentence, members))
            sentences.append(" ".join(best.split()))
        head = ", ".join(self.name(k) for k in members[:8])
        return f"{head}. " + " ".join(sentences), chunk_ids

    def write_summaries(self, communities: Iterable[Community], generator) -> list[Community]:
        """Have the generator summarize the given communities; keep each in the KB file for reuse."""
        rewritten = []
        with GraphStore(self.path) as store:
            for community in communities:
                if community.written_by == generator.model_id:
                    rewritten.append(community)
                    continue
                prompt = (
                    f"Notes: {examples.SUMMARY_NOTES}\nOne-sentence summary: {examples.SUMMARY}\n\n"
                    f"Notes: {community.summary[:1500]}\nOne-sentence summary:"
                )
                text = generator.generate(prompt, stop=("\n",)).text or community.summary
                store.keep_summary(community.signature, text, generator.model_id)
                rewritten.append(
                    Community(community.id, community.members, text, community.chunk_ids, generator.model_id)
                )
        return rewritten

    def community_of(self, key: str) -> Community | None:
        return next((c for c in self.communities if key in c.members), None)

    def stats(self, top: int = 10) -> dict[str, Any]:
        return {
            "nodes": self.graph.number_of_nodes(),
            "edges": self.graph.number_of_edges(),
            "relations": sum(len(d["relations"]) for _, _, d in self.graph.edges(data=True)),
            "communities": len(self.communities),
            "chunks": len(self.chunk_entities),
            "top_entities": [
                {"key": k, "name": self.name(k), "label": self.graph.nodes[k]["label"], "weighted_degree": w}
                for k, w in self.top_entities(top)
            ],
        }

    def neighbourhood(self, key: str, limit: int = 20) -> list[dict[str, Any]]:
        """The entity's neighbours, strongest link first, with the link in words."""
        neighbours = sorted(self.graph[key].items(), key=lambda item: (-item[1]["weight"], item[0]))[:limit]
        return [
            {"key": n, "name": self.name(n), "weight": d["weight"], "link": self.chain([key, n])}
            for n, d in neighbours
        ]

    def export(self, around: Sequence[str] = (), hops: int = 1) -> dict[str, Any]:
        """Node-link JSON for the UI: the whole graph, or the subgraph within `hops` of the given entities."""
        keys = [k for name in around for k, _ in self.find(name)[:1]]
        if around:
            nodes: set[str] = set()
            for key in keys:
                nodes |= set(nx.ego_graph(self.graph, key, radius=hops))
            graph = self.graph.subgraph(nodes)
        else:
            graph = self.graph
        community_of = {k: c.id for c in self.communities for k in c.members}
        plain = nx.Graph()
        for key, data in graph.nodes(data=True):
            plain.add_node(
                key, name=data["name"], label=data["label"], community=community_of.get(key),
                chunks=sorted(data["chunks"]), home_chunks=sorted(data["home_chunks"]),
            )
        for a, b, data in graph.edges(data=True):
            plain.add_edge(a, b, weight=data["weight"], relations=[[s, v, o] for s, v, o, _ in data["relations"]])
        exported = nx.node_link_data(plain, edges="edges")
        exported["communities"] = [
            {"id": c.id, "members": [k for k in c.members if k in plain], "summary": c.summary}
            for c in self.communities
            if any(k in plain for k in c.members)
        ]
        exported["centre"] = keys
        return exported


def _add_link(graph: nx.Graph, a: str, b: str, weight: float, relation: tuple | None = None) -> None:
    if a == b:
        return
    if not graph.has_edge(a, b):
        graph.add_edge(a, b, weight=0.0, relations=[])
    edge = graph.edges[a, b]
    edge["weight"] += weight
    if relation is not None:
        edge["relations"].append(relation)


def _members_named(sentence: str, members: Sequence[str]) -> int:
    words = f" {entity_key(sentence)} "
    return sum(f" {key} " in words for key in members)


def open_graph(kb_path: Path, spacy_model: str, on_progress: ProgressCallback | None = None) -> EntityGraph:
    """The graph of the KB file at `kb_path`, reading first any chunks ingested without it (with progress)."""
    missing = unread_chunk_count(kb_path)
    if missing:
        log.warning("Reading entities from %d chunks not yet in the graph of %s (once)", missing, kb_path.parent.name)
        update_graph(kb_path, EntityExtractor.load(spacy_model), on_progress or _log_progress)
    with GraphStore(kb_path) as store:
        fingerprint = store.fingerprint()
    return _load_cached(kb_path, fingerprint)


@lru_cache(maxsize=4)
def _load_cached(kb_path: Path, fingerprint: str) -> EntityGraph:
    return EntityGraph.load(kb_path)


def _log_progress(fraction: float, message: str) -> None:
    log.info("graph: %3.0f%% %s", fraction * 100, message)
