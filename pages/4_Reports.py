"""Reports: a stored run's metrics with confidence intervals, latency, KV memory, per-question answers."""

import streamlit as st

from app.webui import lab_settings
from eval.report_charts import (
    kv_cache_chart,
    metric_means_chart,
    paired_comparison_chart,
    stage_latency_chart,
)
from eval.reports import render_csv, render_html
from eval.run_analysis import analyze_run
from eval.run_store import RunStore, run_store_path

st.set_page_config(page_title="RAG Lab · Reports", layout="wide")
st.title("Reports")
settings = lab_settings()
summaries = RunStore(run_store_path(settings.home)).summaries()
if not summaries:
    st.info("No evaluation runs yet. Start one on the Evaluate page or with `raglab eval --qa FILE --kb NAME`.")
    st.stop()

labels = {
    f"{s.run.run_id} · {s.run.kb} · {', '.join(s.run.strategies)} · {s.results_done} results": s.run.run_id
    for s in summaries
}
run_id = labels[st.selectbox("Run", list(labels))]
analysis = analyze_run(RunStore(run_store_path(settings.home)), run_id, seed=settings.seed)

left, right = st.columns(2)
left.download_button("Download HTML report", render_html(analysis), f"raglab-{run_id}.html", "text/html")
right.download_button("Download CSV", render_csv(analysis), f"raglab-{run_id}.csv", "text/csv")

st.subheader("Metric means with 95% bootstrap confidence intervals")
st.plotly_chart(metric_means_chart(analysis), width="stretch")
if analysis.baseline:
    st.subheader(f"Paired comparison against {analysis.baseline}")
    st.plotly_chart(paired_comparison_chart(analysis), width="stretch")
st.subheader("Latency by stage")
st.plotly_chart(stage_latency_chart(analysis), width="stretch")
st.subheader("KV-cache memory against prompt length")
st.plotly_chart(kv_cache_chart(analysis), width="stretch")

st.subheader("Per question")
shown = st.multiselect("Strategies", analysis.strategies, default=analysis.strategies)
search = st.text_input("Filter questions", placeholder="a word in the question")
questions = {item.item_id: item for item in analysis.items}
rows = [
    {
        "question": questions[r.item_id].question,
        "reference": questions[r.item_id].reference,
        "strategy": r.strategy,
        "answer": r.error and f"error: {r.error}" or r.answer,
        "top context": r.contexts[0]["doc_title"] if r.contexts else "",
        **{m: v.value for m, v in r.metrics.items()},
    }
    for r in analysis.results
    if r.strategy in shown and search.lower() in questions[r.item_id].question.lower()
]
st.dataframe(rows, hide_index=True, width="stretch")
