"""Corpus: build a bundled demo; create or extend a knowledge base, preview a chunker, ingest, see KB stats."""

from pathlib import Path

import streamlit as st

from app.highlighting import markdown_literal
from app.webui import (
    INGEST_STOPPED,
    ProgressBar,
    announce_stopped_work,
    build_demo_with_progress,
    cached_embedder,
    forget_contexts,
    lab_settings,
)
from lab.ingestion import BUNDLED_DEMOS, ingest_paths, preview_chunks
from lab.kb import (
    CHUNKER_NAMES,
    SUPPORTED_SUFFIXES,
    IngestReport,
    KnowledgeBase,
    KnowledgeBaseError,
    UnreadableFile,
    UploadRejected,
    knowledge_base_names,
    load_documents,
    save_upload,
)



def show_report(report: IngestReport, heading: str = "") -> None:
    """What an ingest did, a warning naming each file it could not read and why, and the files it left out."""
    st.success(
        f"{heading}{len(report.indexed)} files indexed ({report.documents_added} documents, "
        f"{report.chunks_added} chunks), {len(report.unchanged)} unchanged, {len(report.failures)} failed, "
        f"{len(report.skipped)} left out."
    )
    for path, encoding in report.encodings.items():
        st.info(markdown_literal(f"{path}: not UTF-8; read as {encoding}"))
    for failure in report.failures:
        st.warning(markdown_literal(f"{failure.path}: {failure.reason}"))
    if report.skipped:
        with st.expander(f"{len(report.skipped)} files left out (types the lab does not read, or hidden)"):
            st.caption(markdown_literal(f"Supported types: {', '.join(SUPPORTED_SUFFIXES)}"))
            st.dataframe([{"file": item.path, "why": item.reason} for item in report.skipped], width="stretch")


st.set_page_config(page_title="RAG Lab · Corpus", layout="wide")
st.title("Corpus")
if announce_stopped_work():
    forget_contexts()  # a stopped ingest committed batches the loaded contexts do not know
settings = lab_settings()

st.subheader("Bundled demos")
demo = BUNDLED_DEMOS[
    st.radio(
        "Demo corpus and questions", list(BUNDLED_DEMOS), key="bundled_demo",
        format_func=lambda name: f"{BUNDLED_DEMOS[name].label}: {BUNDLED_DEMOS[name].description}",
    )
]
demo_built = demo.kb_name in knowledge_base_names(settings.home)
st.caption(
    f"Knowledge base `{demo.kb_name}` "
    + ("is built; building again indexes only files that changed." if demo_built else "is not built yet.")
)
if st.button(f"Build `{demo.kb_name}`", key="build_demo"):
    try:
        report = build_demo_with_progress(demo)
    except (KnowledgeBaseError, ValueError) as error:
        st.error(markdown_literal(str(error)))
    else:
        show_report(report, f"`{demo.kb_name}`: ")

st.subheader("Knowledge bases")
existing = knowledge_base_names(settings.home)
left, right = st.columns(2)
choice = left.selectbox("Knowledge base", [*existing, "➕ new knowledge base"])
kb_name = right.text_input("New knowledge base name", placeholder="e.g. notes") if choice.startswith("➕") else choice

if kb_name and kb_name in existing:
    kb = KnowledgeBase.open(settings.home, kb_name)
    stats, index = kb.stats(), kb.dense_index_info()
    kb.close()
    columns = st.columns(4)
    for column, key in zip(columns, ("documents", "chunks", "tokens", "sources")):
        column.metric(key, f"{stats[key]:,}")
    params = ", ".join(f"{name}={value}" for name, value in index["params"].items())
    built = f", last rebuilt in {index['build_s']:.1f} s" if index["build_s"] else ""
    st.caption(
        f"Dense index: **{index['kind']}** (FAISS `{index['factory']}`{'; ' + params if params else ''}), "
        f"{index['bytes'] / 2**20:.1f} MiB on disk{built}. {markdown_literal(index['why'])} The setting `index_kind` "
        "(auto, flat, hnsw, ivf, sq8) applies at the next ingest."
    )
    with st.expander("Re-chunk this knowledge base: each chunker's boundaries, then a copy with another chunker"):
        kb = KnowledgeBase.open(settings.home, kb_name)
        longest, sources = kb.store.longest_document(), [Path(path) for path in kb.store.source_paths()]
        kb.close()
        if longest:
            title, text = longest
            st.text(f"Previewed on the longest document, “{title}” (first 20,000 characters).")
            for tab, name in zip(st.tabs(list(CHUNKER_NAMES)), CHUNKER_NAMES):
                with tab:
                    if name == "llm" and not st.checkbox("Run the llm chunker (it asks the model at every sentence)",
                                                         key="preview_llm"):
                        continue
                    chunks = preview_chunks(settings, text[:20_000], name, cached_embedder())
                    st.caption(f"{name}: {len(chunks)} chunks")
                    for number, chunk in enumerate(chunks[:12], start=1):
                        st.text_area(f"{name} chunk {number}", chunk, height=90, disabled=True)
        rechunker = st.selectbox("Chunker for the copy", CHUNKER_NAMES, key="rechunk_with")
        target = f"{kb_name}-{rechunker}"
        present = [path for path in sources if path.exists()]
        if st.button(f"Re-chunk into `{target}`", disabled=not present):
            with ProgressBar(stopped_note=INGEST_STOPPED) as bar:
                report = ingest_paths(settings, target, present, rechunker, on_progress=bar)
            show_report(report, f"`{target}`: ")
            forget_contexts()
        if len(present) < len(sources):
            st.caption(f"{len(sources) - len(present)} of its source files are no longer on disk and cannot be re-chunked.")

st.subheader("Add documents")
uploads = st.file_uploader(
    f"Upload files ({', '.join(SUPPORTED_SUFFIXES)}; up to {settings.max_upload_mb} MiB each)", accept_multiple_files=True
)
folder = st.text_input("…or a folder or file on this machine", placeholder="/path/to/documents")
chunker = st.selectbox("Chunker", CHUNKER_NAMES, index=CHUNKER_NAMES.index(settings.chunker))

paths: list[Path] = []
for upload in uploads or []:
    try:
        paths.append(save_upload(settings.home, kb_name or "unnamed", upload.name, upload.getvalue(), settings.max_upload_mb * 2**20))
    except UploadRejected as error:
        st.error(markdown_literal(str(error)))
if folder.strip():
    paths.append(Path(folder.strip()).expanduser())

if paths and st.toggle("Preview the chunks of the first document"):
    try:
        sample = load_documents(paths[0]) if paths[0].is_file() else []
    except UnreadableFile as error:
        st.error(markdown_literal(f"{paths[0].name}: {error}"))
        sample = []
    if sample:
        chunks = preview_chunks(settings, sample[0].text[:20_000], chunker, cached_embedder())
        st.text(f"{chunker}: {len(chunks)} chunks from “{sample[0].title}”")
        for number, chunk in enumerate(chunks[:20], start=1):
            st.text_area(f"chunk {number}", chunk, height=100, disabled=True)

if st.button("Ingest", type="primary", disabled=not (paths and kb_name)):
    try:
        with ProgressBar(stopped_note=INGEST_STOPPED) as bar:
            report = ingest_paths(settings, kb_name, paths, chunker, on_progress=bar)
    except (KnowledgeBaseError, ValueError) as error:
        st.error(markdown_literal(str(error)))
    else:
        show_report(report)
        forget_contexts()
