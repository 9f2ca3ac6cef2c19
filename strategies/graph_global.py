"""Graph RAG, global search: answer map-reduce style from the summaries of the most relevant communities.

Corpus-wide questions ("what themes recur?") have no one passage to retrieve; GraphRAG's global search
(Edge et al., 2024) answers them from community summaries instead. Communities of the entity graph
(`lab.entity_graph`) are ranked by the cosine similarity of their summary to the question, plus a bonus
for each entity of theirs the question names; the generator writes a partial answer from each of the top
few (map), then one answer (reduce). The passages are the chunks that mention a member of a chosen
community, most similar to the question first: the part of the corpus the chosen summaries stand for
(the few chunks a summary quotes held the gold page for R@5 0.44 of the docs-demo questions, the
community's chunks for 0.74). The reduce reads those passages with the partial answers as notes, in
either answer mode, like every other strategy's read step: a 270M model reducing the partial answers alone
scored F1 0.102 on the docs (the closed-book control 0.121) and 0.232 on the HotpotQA demo, against
0.102 and 0.247 with the passages; selecting with the partial answers as notes scored 0.212 and 0.420,
and 0.212 and 0.290 without them. Summaries are extractive unless generated ones are asked for (written
once per community, kept in the KB file).

Cost: one embedding per community summary (cached per graph state), then M generations and one read of
the passages (written or selected), plus M generations the first time generated summaries are used. Left out: GraphRAG's hierarchy of community levels and its
model-rated helpfulness of each partial answer.
"""

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from lab.context import LabContext
from lab.core import Answer, Passage, Retrieval, Trace
from lab.graph import Community, EntityGraph, link_entities, write_summaries
from lab.llm import ANSWER_STOP
from lab.steps import read_passages

MAP_EXAMPLE = (
    "Notes: Marie Curie, Pierre Curie, Sorbonne. Marie Curie was a Polish-born physicist who taught at the Sorbonne.\n"
    "Question: Which country was Marie Curie born in?\n"
    "Answer: Poland\n\n"
)


class GraphGlobalRAG:
    name = "graph-global"
    description = __doc__
    stages = ("rank", "map", "reduce")

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")

        communities: int = Field(3, ge=1, le=10, description="Communities whose summaries are read (M).")
        link_bonus: float = Field(0.2, ge=0.0, le=1.0, description="Added per community entity the question names.")
        generated_summaries: bool = Field(False, description="Have the generator rewrite each chosen summary (cached).")

    def __init__(self, params: Params | None = None):
        self.params = params or self.Params()

    def retrieve(self, question: str, ctx: LabContext) -> Retrieval:
        trace = Trace()
        with trace.stage("rank"):
            passages, _ = self._rank(question, ctx, trace)
        return Retrieval(tuple(passages), trace)

    def answer(self, question: str, ctx: LabContext) -> Answer:
        trace = Trace()
        with trace.stage("rank"):
            passages, chosen = self._rank(question, ctx, trace)
        with trace.stage("map"):
            if chosen and self.params.generated_summaries:
                chosen = write_summaries(ctx.graph.path, chosen, ctx.generator)
            partial = [trace.record(ctx.generator.generate(map_prompt(question, c), stop=ANSWER_STOP)) for c in chosen]
            trace.note("partial_answers", partial)
        with trace.stage("reduce"):
            notes = [f"Partial answer {i}: {answer}" for i, answer in enumerate(partial, start=1) if answer]
            text = read_passages(question, passages, ctx, trace, notes=notes)
        return Answer(self.name, text, tuple(passages), trace)

    def _rank(self, question: str, ctx: LabContext, trace: Trace) -> tuple[list[Passage], list[Community]]:
        """The chosen communities, best first, and the chunks that mention their members as passages."""
        graph = ctx.graph
        query_vector = ctx.embedder.embed(question)
        if not graph.communities:
            trace.note("fallback", "the graph has no communities (no entities found); dense retrieval instead")
            return ctx.kb.dense_search(query_vector, ctx.settings.top_k), []
        linked = link_entities(question, graph, ctx.extractor, min_ratio=88.0)
        scores = community_scores(graph, query_vector, ctx, linked, self.params.link_bonus)
        order = np.argsort(-scores, kind="stable")[: self.params.communities]
        chosen = [graph.communities[i] for i in order]
        trace.note(
            "communities",
            [
                {"id": c.id, "score": round(float(scores[c.id]), 3), "members": [graph.name(k) for k in c.members[:5]]}
                for c in chosen
            ],
        )
        behind = set().union(*(graph.chunks_of(community) for community in chosen))
        similar = sorted(ctx.kb.similarities(query_vector, behind).items(), key=lambda item: -item[1])
        return ctx.kb.passages(similar[: ctx.settings.top_k]), chosen


def community_scores(
    graph: EntityGraph, query_vector: np.ndarray, ctx: LabContext, linked: dict[str, float], link_bonus: float
) -> np.ndarray:
    """One score per community, in community id order: summary similarity plus the named-entity bonus."""
    vectors = graph.summary_vectors(ctx.embedder.embed_many)
    bonus = np.array([link_bonus * sum(linked.get(k, 0.0) for k in c.members) for c in graph.communities])
    return vectors @ query_vector + bonus


def map_prompt(question: str, community: Community) -> str:
    notes = " ".join(community.summary.split())[:1500]
    return f"{MAP_EXAMPLE}Notes: {notes}\nQuestion: {question.strip()}\nAnswer:"

