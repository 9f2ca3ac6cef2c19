"""Graph: the knowledge base's entity graph — communities coloured; pick an entity to see its links and chunks."""

import streamlit as st

from app.charts import entity_graph_chart
from app.highlighting import chunk_html, markdown_literal
from app.webui import ProgressBar, cached_graphs, choose_knowledge_base, lab_settings
from lab.kb import KnowledgeBase

st.set_page_config(page_title="RAG Lab · Graph", layout="wide")
st.title("Entity graph")
settings = lab_settings()
kb_name = choose_knowledge_base()
if not kb_name:
    st.stop()

kb = KnowledgeBase.open(settings.home, kb_name)
bar = ProgressBar("opening the graph")
graph = cached_graphs().graph(kb.database_path, on_progress=bar)
bar.empty()
stats = graph.stats(top=30)
for column, key in zip(st.columns(4), ("nodes", "edges", "relations", "communities")):
    column.metric(key, f"{stats[key]:,}")
if graph.is_empty:
    st.info("No entities were found in this corpus, so the graph is empty; graph strategies fall back to dense retrieval.")
    st.stop()

names = [entity["name"] for entity in stats["top_entities"]]
typed = st.text_input("Search an entity", placeholder="type a name, or click a node below")
selected = st.session_state.get("graph_selected")
entity = typed.strip() or selected
exported = graph.export(around=[entity], hops=1) if entity else graph.export()
if entity and not exported["centre"]:
    st.warning(markdown_literal(f"No entity like “{entity}” in this graph. Best connected: {', '.join(names[:10])}."))
    exported = graph.export()
event = st.plotly_chart(entity_graph_chart(exported), on_select="rerun", selection_mode="points", key="graph_chart")
points = event.selection.points if event and event.selection else []
if points and points[0].get("customdata") and points[0]["customdata"] != selected:
    st.session_state["graph_selected"] = graph.name(points[0]["customdata"])
    st.rerun()

if entity and exported["centre"]:
    key = exported["centre"][0]
    st.subheader(markdown_literal(graph.name(key)))
    community = graph.community_of(key)
    if community:
        st.caption(markdown_literal(f"Community {community.id}: {community.summary}"))
    st.dataframe(
        [{"neighbour": n["name"], "weight": n["weight"], "link": n["link"]} for n in graph.neighbourhood(key)],
        hide_index=True,
    )
    st.subheader("Chunks that mention it")
    chunks = kb.chunks(sorted(graph.chunks_mentioning(key)))
    for chunk in list(chunks.values())[:20]:
        st.html(chunk_html(chunk.title, chunk.id, chunk.text))
kb.close()
