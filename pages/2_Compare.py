"""Compare: one question, several strategies side by side, with passages, timelines and memory."""

import streamlit as st

from app.charts import SWIMLANE_CAPTION, agent_swimlanes, kv_cache_chart, stage_latency_chart, stage_timeline
from app.rendering import answer_candidates, decision_paths, generator_line
from app.highlighting import answer_html, candidates_html, markdown_literal, passage_html
from app.running import compare
from app.webui import ProgressBar, announce_stopped_work, cached_context, choose_knowledge_base, lab_settings
from strategies import available_strategies
from eval.profiles import ProfileError, beside_tuned, saved_profiles

st.set_page_config(page_title="RAG Lab · Compare", layout="wide")
st.title("Compare strategies")
announce_stopped_work()

kb_name = choose_knowledge_base()
known = list(available_strategies())
default = [name for name in ("traditional", "hyde", "graph", "agentic") if name in known]
chosen = st.multiselect("Strategies", known, default=default)
settings = lab_settings()
profiles = ["", *saved_profiles(settings.home)]
profile = st.selectbox(
    "Tuned profile: each strategy it configures also runs tuned, beside its defaults", profiles, key="profile",
    index=profiles.index(settings.profile) if settings.profile in profiles else 0, format_func=lambda name: name or "(none)",
)
question = st.text_input("Question", placeholder="Ask something your corpus can answer")

if st.button("Compare", type="primary", disabled=not (kb_name and chosen)):
    if not question.strip():
        st.warning("Type a question first.")
        st.stop()
    try:
        chosen = beside_tuned(chosen, settings.home, profile) if profile else chosen
    except ProfileError as error:
        st.error(markdown_literal(str(error)))
        st.stop()
    ctx = cached_context(kb_name)
    with ProgressBar(stopped_note="The comparison was cancelled before every strategy answered; press Compare to "
                                  "run it again.") as bar:
        answers = compare(question, chosen, ctx, on_progress=bar)
    bar.empty()
    st.caption(generator_line(ctx.generator.describe()))
    for column, answer in zip(st.columns(len(answers)), answers):
        with column:
            st.subheader(answer.strategy)
            if answer.error:
                st.error(markdown_literal(answer.error))
                continue
            st.html(answer_html(answer.text))
            st.caption(f"{answer.trace.total_ms / 1000:.1f} s · KV peak {answer.trace.kv_bytes_peak / 2**20:.1f} MiB")
            if answer.trace.scoring_calls:
                st.caption("decisions: " + decision_paths(answer))
            if candidates := answer_candidates(answer):
                with st.expander(f"Top {len(candidates)} answer candidates"):
                    st.html(candidates_html(candidates))
            st.plotly_chart(stage_timeline(answer), width="stretch", key=f"timeline-{answer.strategy}")
            with st.expander(f"{len(answer.passages)} passages"):
                for passage in answer.passages:
                    st.html(passage_html(passage.doc_title, passage.score, passage.text, question))
            with st.expander("Trace steps"):
                for stage in answer.trace.stages:
                    st.markdown(f"**{stage.name}** · {stage.ms:.0f} ms")
                    if stage.detail:
                        st.json(stage.detail, expanded=False)
    for answer in answers:
        if answer.trace.lanes:
            st.subheader(f"{answer.strategy}: the agents, lane by lane")
            st.plotly_chart(agent_swimlanes(answer), width="stretch", key=f"lanes-{answer.strategy}")
            st.caption(SWIMLANE_CAPTION)
    st.subheader("Same question, all strategies")
    st.plotly_chart(stage_latency_chart(answers), width="stretch")
    st.subheader("KV-cache memory per LLM call")
    st.plotly_chart(kv_cache_chart(answers), width="stretch")
