"""RAG Lab web app, home page: ask a knowledge base a question with one strategy.

Run with `raglab lab` (or `make lab`). The page only displays; the work is done by `lab/`.
"""

import lab  # noqa: F401 - offline and silent before model libraries load
import pandas as pd
import streamlit as st

from lab.charts import stage_latency_chart
from lab.context import build_context
from lab.ingestion import ensure_demo_kb
from lab.knowledge_base import knowledge_base_names
from lab.running import ask
from lab.settings import LabSettings
from strategies import available_strategies

st.set_page_config(page_title="RAG Lab", layout="wide")


@st.cache_resource
def lab_settings() -> LabSettings:
    return LabSettings()


@st.cache_resource(show_spinner="Loading models and the knowledge base…")
def cached_context(kb_name: str):
    return build_context(lab_settings(), kb_name)


settings = lab_settings()
st.title("RAG Lab")
st.caption("Ask one question of your corpus and see the answer, the passages it used, and what each stage cost.")

if not knowledge_base_names(settings.home):
    with st.status("No knowledge base yet: building the bundled HotpotQA demo…", expanded=True) as status:
        bar = st.progress(0.0)
        ensure_demo_kb(settings, on_progress=lambda fraction, message: bar.progress(fraction, text=message))
        status.update(label="Demo knowledge base ready", state="complete", expanded=False)

left, right = st.columns(2)
kb_name = left.selectbox("Knowledge base", knowledge_base_names(settings.home))
strategy_names = list(available_strategies())
strategy_name = right.selectbox("Strategy", strategy_names, index=strategy_names.index("traditional"))
question = st.text_input("Question", placeholder="Ask something your corpus can answer")

if st.button("Ask", type="primary"):
    if not question.strip():
        st.warning("Type a question first.")
    else:
        with st.spinner(f"{strategy_name} is answering…"):
            answer = ask(question, strategy_name, cached_context(kb_name))
        st.subheader("Answer")
        st.markdown(f"**{answer.text or '(empty answer)'}**")
        st.plotly_chart(stage_latency_chart([answer]), width="stretch")
        st.subheader("Passages")
        for passage in answer.passages:
            st.markdown(f"**{passage.doc_title}** · score {passage.score:.3f}  \n{passage.text}")
        with st.expander("LLM calls and KV-cache memory"):
            st.dataframe(pd.DataFrame([vars(c) for c in answer.trace.llm_calls]), hide_index=True)
