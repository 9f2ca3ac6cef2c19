"""The entity graph of a knowledge base, as networkx: entities, their links, communities and an export.

Nodes are entities (`lab.graph.entities`), each with the chunks that mention it and the chunks it is the
title of (its "page"). An edge's weight counts the sentences two entities share, the chunks where one is
the title and the other is mentioned, and the relations between them; its `relations` keep the verbs.
The view is summed from the tables in `lab.graph.graph_store` and cached per knowledge-base state
(`GraphCache`); communities and their summaries are `lab.graph.communities`. networkx is imported where
a graph is read or exported, not with the room, which every web page imports before it draws.
"""

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence, Set
from functools import cached_property
from math import log as ln
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import fuzz, process

from lab.graph.communities import Community, find_communities
from lab.graph.entities import EntityExtractor, abbreviates, capitalized_names, corpus_aliases, entity_key
from lab.graph.graph_store import GraphStore, unread_chunk_count, update_graph

if TYPE_CHECKING:
    import networkx as nx

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]
EmbedMany = Callable[[list[str]], np.ndarray]


class EntityGraph:
    """An immutable view of one knowledge base's graph; a `GraphCache` reads it anew after an ingest.

    Callers ask it for entities, pages, mentions and weighted neighbours; the networkx graph and its node
    fields stay inside this room, so how the graph is stored can change without touching a strategy.
    """

    def __init__(self, path: Path, graph: "nx.Graph", chunk_entities: dict[int, dict[str, bool]], fingerprint: str):
        self.path = path
        self._graph = graph
        self._chunk_entities = chunk_entities
        self.fingerprint = fingerprint
        self._summary_vectors: dict[tuple, np.ndarray] = {}

    @classmethod
    def load(cls, path: Path) -> "EntityGraph":
        import networkx as nx

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
        return self._graph.number_of_nodes() == 0

    def __contains__(self, key: str) -> bool:
        return key in self._graph

    def name(self, key: str) -> str:
        return self._graph.nodes[key]["name"]

    def label(self, key: str) -> str:
        """The spaCy label the entity was read with (PERSON, ORG, ...), or TITLE for a page title."""
        return self._graph.nodes[key]["label"]

    def chunks_mentioning(self, key: str) -> Set[int]:
        """Every chunk that mentions the entity, its own pages included."""
        return self._graph.nodes[key]["chunks"]

    def pages_of(self, key: str) -> Set[int]:
        """The chunks of the entity's own page (the document titled by it); none for an unknown key."""
        return self._graph.nodes[key]["home_chunks"] if key in self._graph else frozenset()

    def has_page(self, key: str) -> bool:
        return bool(self.pages_of(key))

    def chunks_page_first(self, key: str) -> list[int]:
        """The chunks about the entity: its own page's chunks, then the others that mention it, each in id order."""
        pages = self.pages_of(key)
        return sorted(pages) + sorted(self.chunks_mentioning(key) - pages)

    def entities_of(self, chunk_id: int) -> Mapping[str, bool]:
        """The entities a chunk mentions, each with whether the chunk is on that entity's own page."""
        return self._chunk_entities.get(chunk_id, {})

    def neighbours(self, key: str) -> dict[str, float]:
        """Linked entities and the weight of each link, in the graph's order."""
        return {neighbour: data["weight"] for neighbour, data in self._graph[key].items()}

    @property
    def chunk_count(self) -> int:
        """The chunks in which any entity was found."""
        return len(self._chunk_entities)

    def specificity(self, key: str) -> float:
        """1 for an entity one chunk mentions, falling towards 0 for one every chunk mentions (an idf)."""
        n_chunks = max(len(self._chunk_entities), 1)
        mentioned_in = max(len(self._graph.nodes[key]["chunks"]), 1)
        return ln(1 + n_chunks / mentioned_in) / ln(1 + n_chunks)

    def is_common(self, key: str, share: float) -> bool:
        """Mentioned in more than `share` of the chunks and without a page of its own: a name the whole corpus
        shares (a product's name in its own docs, a country in a history), which narrows no search."""
        node = self._graph.nodes[key]
        return not node["home_chunks"] and len(node["chunks"]) > share * max(len(self._chunk_entities), 1)

    def find(self, name: str, min_ratio: float = 88.0) -> list[tuple[str, float]]:
        """Entities a name may stand for, with a confidence in [0, 1]: exact, near spelling, or abbreviation."""
        key = entity_key(name)
        if not key:
            return []
        if key in self._graph:
            return [(key, 1.0)]
        near = process.extract(key, self._keys, scorer=fuzz.ratio, score_cutoff=min_ratio, limit=3)
        if near:
            return [(match, score / 100) for match, score, _ in near]
        longer = [k for k in self._keys if abbreviates(key, k)]
        longer.sort(key=lambda k: -len(self._graph.nodes[k]["chunks"]))
        return [(k, 0.8) for k in longer[:3]]

    @cached_property
    def _keys(self) -> list[str]:
        return list(self._graph.nodes)

    @cached_property
    def _pages(self) -> set[str]:
        return {k for k, home in self._graph.nodes(data="home_chunks") if home}

    def pages_named_in(self, text: str) -> set[str]:
        """Entities with a page of their own whose name the text spells out, NER or not ("WINNER")."""
        return {key for key in capitalized_names(text) if key in self._pages}

    def weighted_degree(self, key: str) -> float:
        return float(self._graph.degree(key, weight="weight"))

    def top_entities(self, n: int = 10) -> list[tuple[str, float]]:
        ranked = sorted(self._graph.nodes, key=lambda k: (-self.weighted_degree(k), k))
        return [(k, self.weighted_degree(k)) for k in ranked[:n]]

    def edge_label(self, a: str, b: str) -> str:
        """How `a` relates to `b` in words: a relation verb read in that direction, if any; "names" without an edge."""
        if not self._graph.has_edge(a, b):
            return "names"
        relations = self._graph.edges[a, b]["relations"]
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
        return find_communities(self._graph, self.path, self.name, self.weighted_degree)

    def chunks_of(self, community: Community) -> set[int]:
        """Every chunk that mentions a member: the part of the corpus the community stands for."""
        return {chunk_id for key in community.members for chunk_id in self.chunks_mentioning(key)}

    def summary_vectors(self, embed_many: EmbedMany) -> np.ndarray:
        """The communities' summaries embedded, one row per community; embedded once per graph and embedder."""
        summaries = tuple(c.summary for c in self.communities)
        key = (summaries, embed_many)
        if key not in self._summary_vectors:
            self._summary_vectors[key] = embed_many(list(summaries))
        return self._summary_vectors[key]

    def community_of(self, key: str) -> Community | None:
        return next((c for c in self.communities if key in c.members), None)

    def stats(self, top: int = 10) -> dict[str, Any]:
        return {
            "nodes": self._graph.number_of_nodes(),
            "edges": self._graph.number_of_edges(),
            "relations": sum(len(d["relations"]) for _, _, d in self._graph.edges(data=True)),
            "communities": len(self.communities),
            "chunks": self.chunk_count,
            "top_entities": [
                {"key": k, "name": self.name(k), "label": self.label(k), "weighted_degree": w}
                for k, w in self.top_entities(top)
            ],
        }

    def neighbourhood(self, key: str, limit: int = 20) -> list[dict[str, Any]]:
        """The entity's neighbours, strongest link first, with the link in words."""
        neighbours = sorted(self._graph[key].items(), key=lambda item: (-item[1]["weight"], item[0]))[:limit]
        return [
            {"key": n, "name": self.name(n), "weight": d["weight"], "link": self.chain([key, n])}
            for n, d in neighbours
        ]

    def export(self, around: Sequence[str] = (), hops: int = 1) -> dict[str, Any]:
        """Node-link JSON for the UI: the whole graph, or the subgraph within `hops` of the given entities."""
        import networkx as nx

        keys = [k for name in around for k, _ in self.find(name)[:1]]
        if around:
            nodes: set[str] = set()
            for key in keys:
                nodes |= set(nx.ego_graph(self._graph, key, radius=hops))
            graph = self._graph.subgraph(nodes)
        else:
            graph = self._graph
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


def _add_link(graph: "nx.Graph", a: str, b: str, weight: float, relation: tuple | None = None) -> None:
    if a == b:
        return
    if not graph.has_edge(a, b):
        graph.add_edge(a, b, weight=0.0, relations=[])
    edge = graph.edges[a, b]
    edge["weight"] += weight
    if relation is not None:
        edge["relations"].append(relation)


class GraphCache:
    """The entity graphs of knowledge bases, each read once per state of its KB file.

    A context holds one (`lab.context`), so a graph is read once and shared by every strategy, and read
    again only after an ingest changed the KB (its fingerprint). Chunks ingested without the graph are
    read first with the context's spaCy pipeline. Keeps the last few graphs, as the web lab switches KBs.
    """

    def __init__(self, extractor: EntityExtractor, keep: int = 4):
        self.extractor = extractor
        self._keep = keep
        self._graphs: dict[tuple[Path, str], EntityGraph] = {}
        self._lock = threading.Lock()

    def graph(self, kb_path: Path, on_progress: ProgressCallback | None = None) -> EntityGraph:
        """The graph of the KB file at `kb_path`, reading first any chunks ingested without it (with progress)."""
        with self._lock:
            missing = unread_chunk_count(kb_path)
            if missing:
                log.warning("Reading entities from %d chunks not yet in the graph of %s (once)", missing, kb_path.parent.name)
                update_graph(kb_path, self.extractor, on_progress or _log_progress)
            with GraphStore(kb_path) as store:
                key = (kb_path, store.fingerprint())
            if key not in self._graphs:
                if len(self._graphs) >= self._keep:
                    del self._graphs[next(iter(self._graphs))]
                self._graphs[key] = EntityGraph.load(kb_path)
            return self._graphs[key]


def _log_progress(fraction: float, message: str) -> None:
    log.info("graph: %3.0f%% %s", fraction * 100, message)
