"""Tune: a seeded search over a strategy's parameters, top_k and answer_mode on part of a QA set, the best
against the defaults on the held-out part, saved as a profile for the Compare page."""

import pandas as pd
import streamlit as st

from app.highlighting import markdown_literal
from app.webui import ProgressBar, announce_stopped_work, cached_context, lab_settings
from eval.qa_sets import QASetError, load_qa_set
from eval.tuning import OBJECTIVES, TuneRequest, TuningBusy, TuningError, default_storage, load_search, saved_searches, tune
from eval.tuning_charts import search_figures
from lab.ingestion import BUNDLED_DEMOS
from lab.kb import knowledge_base_names
from lab.testsets import generated_from, saved_testsets
from strategies import available_strategies
from eval.profiles import ProfileError, check_profile_name, save_profile

st.set_page_config(page_title="RAG Lab · Tune", layout="wide")
st.title("Tune")
st.caption(
    "Searches a strategy's parameters, top_k and the answer mode for your knowledge base (Optuna's TPE sampler, "
    "seeded). The QA set is split once: trials see only the tuning part, and the best configuration is compared "
    "with the defaults on the held-out part, which no trial saw. The result is saved as a profile: pick it on the "
    "Compare page to see the tuned strategy beside its defaults."
)
announce_stopped_work()
settings = lab_settings()
built = knowledge_base_names(settings.home)

sources = {f"Bundled demo: {demo.label}": (demo.questions, demo.kb_name) for demo in BUNDLED_DEMOS.values()
           if demo.kb_name in built}
sources |= {f"Generated test set: {path.name}": (path, generated_from(path)) for path in saved_testsets(settings.home)}
if not sources:
    st.info("No QA set to tune on: generate one on the Test set page, or build a bundled demo on the Corpus page.")
    st.stop()
qa_path, kb_name = sources[st.selectbox("Questions", list(sources))]
if kb_name not in built:
    kb_name = st.selectbox("Knowledge base", built)
if not kb_name:
    st.info("No knowledge base to ask: build one on the Corpus page.")
    st.stop()
st.caption(markdown_literal(f"Asked of knowledge base {kb_name}."))

known = list(available_strategies())
strategies = st.multiselect("Strategies", known, default=["traditional"])
trials_column, minutes_column, seed_column = st.columns(3)
trials = trials_column.number_input("Trials per strategy", min_value=1, max_value=1000, value=20)
minutes = minutes_column.number_input("Most minutes per strategy (0: no limit)", min_value=0.0, value=0.0, step=5.0)
seed = seed_column.number_input("Seed (same seed: same split and same trials)", min_value=0, value=0)
objective_column, budget_column, profile_column = st.columns(3)
objective = objective_column.selectbox("Objective", OBJECTIVES)
budget = budget_column.number_input("Seconds per question (f1_within_budget)", min_value=0.1, value=5.0,
                                    disabled=objective != "f1_within_budget")
profile = profile_column.text_input("Save as profile", kb_name or "")

if st.button("Tune", type="primary", disabled=not strategies):
    try:
        qa_set = load_qa_set(qa_path)
        profile_name = check_profile_name(profile)
        ctx = cached_context(kb_name)
        for strategy in strategies:
            request = TuneRequest(strategy, int(trials), minutes or None, int(seed), objective,
                                  budget if objective == "f1_within_budget" else None)
            with ProgressBar(stopped_note="The search was cancelled. Every finished trial is kept: press Tune with the "
                                          "same settings to resume it.") as bar:
                result = tune(ctx, qa_set, request, on_progress=bar)
            save_profile(settings.home, profile_name, strategy, result.best_configuration,
                         result.provenance(kb_name, qa_set))
            st.session_state["tune_study"] = result.study_name
            st.success(markdown_literal(
                f"{strategy}: {result.trials} trials ({result.pruned} pruned) in {result.seconds / 60:.1f} min; "
                f"saved to profile {profile_name}. {result.choice.reason} {result.comparison.verdict}"
            ))
    except (QASetError, ProfileError, TuningError, TuningBusy, ValueError) as error:
        st.error(markdown_literal(str(error)))

st.subheader("Searches")
storage = default_storage(settings.home)
names = saved_searches(storage)
if not names:
    st.info("No search yet.")
    st.stop()
chosen = st.session_state.get("tune_study")
name = st.selectbox("Search", names, index=names.index(chosen) if chosen in names else 0)
study = load_search(storage, name)
if comparison := study.user_attrs.get("comparison"):
    choice = study.user_attrs.get("choice", {})
    st.markdown(markdown_literal(f"{choice.get('choice', '')} {comparison['verdict']}"))
    rows = [{"configuration": label, "F1": figures["answer_f1"], "F1 95% CI": str(figures["answer_f1_ci"]),
             "recall@k": figures["recall_at_k"], "recall 95% CI": str(figures["recall_at_k_ci"]),
             "s/question": figures["seconds_per_question"]}
            for label, figures in (("defaults", comparison["default"]), ("tuned", comparison["tuned"]))]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(f"Held-out questions only; paired permutation test on F1: p = {comparison['p_value']}.")
else:
    st.info("This search has not finished: its held-out comparison comes when it does. Its trials so far:")
for title, figure in search_figures(study):
    st.markdown(f"**{title}**")
    if isinstance(figure, str):
        st.caption(figure)
    else:
        st.plotly_chart(figure, width="stretch", key=f"{name}-{title}")
