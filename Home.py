"""RAG Lab web app, home page: ask a knowledge base a question with one strategy.

Run with `raglab lab` (or `make lab`). The pages in `pages/` compare strategies, manage corpora,
evaluate, report and explore the graph. Pages only display; the work is done by `lab/` and `eval/`.
"""

import streamlit as st

from app.charts import stage_latency_chart
from app.highlighting import answer_html, passage_html
from app.running import ask
from app.webui import cached_context, choose_knowledge_base
from strategies import available_strategies

st.set_page_config(page_title="RAG Lab", layout="wide")
st.title("RAG Lab")
st.caption("Ask one question of your corpus and see the answer, the passages it used, and what each stage cost.")

left, right = st.columns(2)
with left:
    kb_name = choose_knowledge_base()
strategy_names = list(available_strategies())
strategy_name = right.selectbox("Strategy", strategy_names, index=strategy_names.index("traditional"))
question = st.text_input("Question", placeholder="Ask something your corpus can answer")

if st.button("Ask", type="primary") and kb_name:
    if not question.strip():
        st.warning("Type a question first.")
    else:
        with st.spinner(f"{strategy_name} is answering…"):
            answer = ask(question, strategy_name, cached_context(kb_name))
        st.subheader("Answer")
        st.html(answer_html(answer.text))
        st.plotly_chart(stage_latency_chart([answer]), width="stretch")
        st.subheader("Passages")
        for passage in answer.passages:
            st.html(passage_html(passage.doc_title, passage.score, passage.text, question))
        with st.expander("LLM calls and KV-cache memory"):
            st.dataframe([vars(call) for call in answer.trace.llm_calls], hide_index=True)
