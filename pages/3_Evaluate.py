"""Evaluate: run strategies over a bundled demo or an uploaded QA set with live progress, store every result, resume."""

from pathlib import Path

import streamlit as st

from app.highlighting import markdown_literal
from app.rendering import generator_line
from app.webui import (
    INGEST_STOPPED,
    ProgressBar,
    announce_stopped_work,
    build_demo_with_progress,
    cached_context,
    choose_knowledge_base,
    forget_contexts,
    lab_settings,
)
from eval.evaluation import evaluate
from eval.reports import CHUNKER_COLUMNS, chunker_cells
from eval.run_analysis import analyze_run
from eval.sweep import chunker_table, run_study
from eval.qa_sets import QASetError, build_kb_from_qa_set, load_qa_set
from eval.run_store import RunStore, RunStoreError, run_store_path
from eval.scoring import ALL_METRICS, METRIC_GROUPS, UnknownMetric
from lab.ingestion import BUNDLED_DEMOS
from lab.kb import CHUNKER_NAMES, UploadRejected, knowledge_base_names, save_upload
from lab.testsets import generated_from, saved_testsets
from strategies import available_strategies

# Answers in flight at once with a server backend, as `raglab eval --concurrency`; in-process backends run one.
# (A comment, not a docstring: Streamlit's magic would print a bare string on the page.)
EVAL_CONCURRENCY = 8

st.set_page_config(page_title="RAG Lab · Evaluate", layout="wide")
st.title("Evaluate")
announce_stopped_work()
settings = lab_settings()
store = RunStore(run_store_path(settings.home))


def run_with_progress(
    qa_path: Path, kb_name: str, strategies: list[str], metrics: list[str], run_id: str | None, limit: int | None = None
) -> None:
    qa_set = load_qa_set(qa_path, limit=limit)
    ctx = cached_context(kb_name)
    st.caption(f"Generator: {generator_line(ctx.generator.describe())}")
    started = st.empty()
    with ProgressBar(stopped_note="The evaluation was cancelled. Every result stored before it stopped is kept: "
                                  "resume the run under “Resume an interrupted run”.") as bar:
        outcome = evaluate(
            ctx, qa_set, strategies, metrics, store, run_id=run_id,
            on_progress=bar,
            on_start=lambda run, done: started.info(f"Run `{run.run_id}` ({done} results already stored)."),
            concurrency=EVAL_CONCURRENCY,
        )
    if outcome.judge_problem:
        st.warning(markdown_literal(outcome.judge_problem))
    if outcome.unreachable:
        st.warning(
            f"{outcome.unreachable} answers failed because the generator could not be reached. They are stored as "
            "failed; when the server is back, resume this run above."
        )
    st.success(
        f"Run `{outcome.run_id}`: {outcome.computed} results computed, {outcome.already_done} kept from before, "
        f"{outcome.errors} errors. Open it on the Reports page."
    )


unfinished = [s for s in store.summaries() if s.results_done < s.run.item_count * len(s.run.strategies)]
if unfinished:
    with st.expander(f"Resume an interrupted run ({len(unfinished)})", expanded=True):
        labels = {
            f"{s.run.run_id} · {s.run.kb} · {s.results_done}/{s.run.item_count * len(s.run.strategies)} done": s
            for s in unfinished
        }
        picked = labels[st.selectbox("Run", list(labels))]
        if st.button("Resume"):
            try:
                run_with_progress(Path(picked.run.qa_path), picked.run.kb, list(picked.run.strategies),
                                  list(picked.run.metrics), picked.run.run_id)
            except (QASetError, RunStoreError, ValueError) as error:
                st.error(markdown_literal(str(error)))

st.subheader("New run")
UPLOAD, GENERATED = "upload", "generated"
SOURCE_LABELS = {UPLOAD: "Upload a QA file", GENERATED: "Generated test set"}
source = st.radio(
    "QA set", [*BUNDLED_DEMOS, GENERATED, UPLOAD], horizontal=True, key="qa_source",
    format_func=lambda name: SOURCE_LABELS.get(name) or f"Bundled demo: {BUNDLED_DEMOS[name].label}",
)
build_own = False
qa_path: Path | None = None
kb_name: str | None = None
if source == UPLOAD:
    upload = st.file_uploader("HotpotQA .json, or .jsonl/.csv with question, reference[, reference_contexts]")
    if upload:
        try:
            qa_path = save_upload(settings.home, "qa", upload.name, upload.getvalue(), settings.max_upload_mb * 2**20,
                                  suffixes=(".json", ".jsonl", ".csv"))
        except UploadRejected as error:
            st.error(markdown_literal(str(error)))
    build_own = st.checkbox("Build a knowledge base from the QA set's own paragraphs")
    kb_name = st.text_input("New knowledge base name", "qa-corpus") if build_own else choose_knowledge_base()
elif source == GENERATED:
    generated = {path.name: path for path in saved_testsets(settings.home)}
    if not generated:
        st.info("No generated test set yet: make one on the Test set page, or run `raglab testset --kb NAME`.")
    else:
        qa_path = generated[st.selectbox("Generated test set", list(generated))]
        made_from = generated_from(qa_path)
        kb_name = made_from if made_from in knowledge_base_names(settings.home) else choose_knowledge_base()
        st.caption(markdown_literal(f"Generated from knowledge base {made_from}; asked of {kb_name}."))
else:
    demo = BUNDLED_DEMOS[source]
    qa_path = demo.questions
    st.caption(f"{demo.description}. Asked of its own knowledge base, `{demo.kb_name}`.")
    if demo.kb_name in knowledge_base_names(settings.home):
        kb_name = demo.kb_name
    else:
        st.info(f"Knowledge base `{demo.kb_name}` is not built yet: build it here or on the Corpus page.")
        if st.button(f"Build `{demo.kb_name}`", key="build_demo_for_eval"):
            try:
                build_demo_with_progress(demo)
            except ValueError as error:
                st.error(markdown_literal(str(error)))
            else:
                kb_name = demo.kb_name

known = list(available_strategies())
strategies = st.multiselect("Strategies", known, default=[n for n in ("no-retrieval", "traditional") if n in known])
limit = st.number_input("Questions (the first N of the set; 0 = all)", min_value=0, value=0, step=1)
metrics = st.multiselect(
    "Metrics (groups or single metrics; LLM metrics are slow with the embedded judge)",
    [*METRIC_GROUPS, *ALL_METRICS], default=["default"],
)

if st.button("Run evaluation", type="primary", disabled=not (qa_path and kb_name and strategies and metrics)):
    try:
        if build_own:
            with ProgressBar("building the knowledge base", stopped_note=INGEST_STOPPED) as bar:
                build_kb_from_qa_set(settings, kb_name, load_qa_set(qa_path), on_progress=bar)
            forget_contexts()
        run_with_progress(qa_path, kb_name, strategies, metrics, None, int(limit) or None)
    except (QASetError, RunStoreError, UnknownMetric, ValueError) as error:
        st.error(markdown_literal(str(error)))

st.subheader("Chunking study")
st.caption(
    "One knowledge base per chunker from the same documents (built once, reused while the documents and settings "
    "stay the same), every chosen strategy on each, stored as one run: the Reports page then shows the chunker table."
)
study_chunkers = st.multiselect("Chunkers", list(CHUNKER_NAMES), default=["fixed", "recursive", "structure"])
study_strategies = st.multiselect("Strategies on each chunker", known, default=["traditional", "hybrid"],
                                  key="study_strategies")
if source in (UPLOAD, GENERATED):
    folder = st.text_input("Folder with the documents to chunk", key="study_docs")
    study_docs = [Path(folder).expanduser()] if folder.strip() else []
else:
    study_docs = list(BUNDLED_DEMOS[source].sources)
    st.caption("Documents: " + ", ".join(f"`{path.name}`" for path in study_docs))
ready = qa_path and kb_name and study_chunkers and study_strategies and study_docs
if st.button("Run chunking study", disabled=not ready):
    missing = [str(path) for path in study_docs if not path.exists()]
    if missing:
        st.error(markdown_literal(f"No such documents: {', '.join(missing)}. Name a folder that exists on the lab's machine."))
        st.stop()
    ctx = cached_context(kb_name)
    with ProgressBar(stopped_note="The chunking study was cancelled. The knowledge bases it finished are kept and "
                                  "reused when the study runs again.") as bar:
        outcome, builds = run_study(
            settings, ctx.embedder, ctx.generator, load_qa_set(qa_path, limit=int(limit) or None), study_docs,
            study_chunkers, study_strategies, ["retrieval", "answer"], store, on_progress=bar,
        )
    for build in builds:
        for path, reason in build.failures:
            st.warning(markdown_literal(f"{build.chunker}: {Path(path).name}: {reason}"))
    table = chunker_table(analyze_run(store, outcome.run_id, seed=settings.seed), seed=settings.seed)
    st.success(f"Study `{outcome.run_id}`: {outcome.computed} answers computed. Open it on the Reports page.")
    st.dataframe([dict(zip(CHUNKER_COLUMNS, chunker_cells(row))) for row in table], width="stretch")
