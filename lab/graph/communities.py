"""Communities of the entity graph and their summaries, the units GraphRAG's global search reads.

Communities are Louvain's (Blondel et al., 2008; networkx, fixed seed, so they are reproducible), each
with an extractive summary: its central entities and, from the chunks that mention most of its members,
the sentence naming most of them. A generator-written summary can replace it (`write_summaries`); it is
kept in the KB file and reused while the community's members are unchanged, as GraphRAG (Edge et al.,
2024) caches its community reports. Left out: hierarchical communities, and re-clustering only the part
of the graph that changed (Louvain on a few thousand nodes takes well under a second). networkx is
imported where the communities are found, not with the room.
"""

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lab.core import examples
from lab.core.text import sentence_spans
from lab.graph.entities import entity_key
from lab.graph.graph_store import GraphStore

if TYPE_CHECKING:
    import networkx as nx

COMMUNITY_SEED = 42
"""Fixes the community detection, so the same graph always splits the same way."""
SUMMARY_SENTENCES = 3
"""Sentences in a community's summary; chosen by hand, not searched."""


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


def find_communities(
    graph: "nx.Graph", kb_path: Path, name: Callable[[str], str], weighted_degree: Callable[[str], float]
) -> list[Community]:
    """Louvain communities, largest first, each with its cached or extractive summary."""
    import networkx as nx

    if graph.number_of_nodes() == 0:
        return []
    groups = nx.community.louvain_communities(graph, weight="weight", seed=COMMUNITY_SEED)
    groups = sorted(groups, key=lambda g: (-len(g), min(g)))
    with GraphStore(kb_path) as store:
        written = store.summaries()
        texts = store.chunk_texts({c for g in groups for k in g for c in graph.nodes[k]["chunks"]})
    communities = []
    for position, group in enumerate(groups):
        members = tuple(sorted(group, key=lambda k: (-weighted_degree(k), k)))
        summary, chunk_ids = _extractive_summary(graph, members, texts, name)
        community = Community(position, members, summary, chunk_ids, "extractive")
        if community.signature in written:
            text, written_by = written[community.signature]
            community = Community(position, members, text, chunk_ids, written_by)
        communities.append(community)
    return communities


def _extractive_summary(
    graph: "nx.Graph", members: tuple[str, ...], texts: dict[int, tuple[str, str]], name: Callable[[str], str]
) -> tuple[str, tuple[int, ...]]:
    coverage: Counter[int] = Counter()
    for key in members:
        coverage.update(graph.nodes[key]["chunks"])
    ranked = sorted(coverage.items(), key=lambda item: (-item[1], item[0]))
    chunk_ids = tuple(c for c, _ in ranked[:SUMMARY_SENTENCES])
    sentences = []
    for chunk_id in chunk_ids:
        _, text = texts.get(chunk_id, ("", ""))
        candidates = [text[s.start : s.end] for s in sentence_spans(text)] or [text]
        best = max(candidates, key=lambda sentence: _members_named(sentence, members))
        sentences.append(" ".join(best.split()))
    head = ", ".join(name(k) for k in members[:8])
    return f"{head}. " + " ".join(sentences), chunk_ids


def _members_named(sentence: str, members: Sequence[str]) -> int:
    words = f" {entity_key(sentence)} "
    return sum(f" {key} " in words for key in members)


def write_summaries(kb_path: Path, communities: Iterable[Community], generator) -> list[Community]:
    """Have the generator summarize the given communities; keep each in the KB file for reuse."""
    rewritten = []
    with GraphStore(kb_path) as store:
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
            rewritten.append(Community(community.id, community.members, text, community.chunk_ids, generator.model_id))
    return rewritten
