"""What every Streamlit page shares: the settings and the loaded models, built once per process.

The embedder and the generator are loaded once per process (per settings) and shared by every session
and every knowledge base; the in-process generator serializes its calls with its own lock.
"""

import lab  # noqa: F401 - offline and silent before model libraries load
import streamlit as st

from app.highlighting import markdown_literal
from lab.context import LabContext, context_with_models
from lab.core import LabSettings, resolve_placement
from lab.graph import EntityExtractor, GraphCache
from lab.ingestion import DEMO_KB, BundledDemo, build_bundled_demo, ensure_demo_kb
from lab.kb import IngestReport, knowledge_base_names, load_embedder
from lab.llm import Generator, load_generator


STOPPED_NOTE_KEY = "raglab-stopped-work"
INGEST_STOPPED = (
    "The ingest was cancelled. The batches it had committed are kept: ingest the same files again to go on "
    "from where it stopped (files already indexed are skipped)."
)


class ProgressBar:
    """A progress bar fed by the lab's `on_progress(fraction, message)` callbacks. Messages name files and
    titles from the corpus, so they are shown literally, never read as Markdown.

    Given a `stopped_note`, it is a context manager with a Cancel button beside the bar. Cancel works the
    way Streamlit stops any script: the click reruns the page, and Streamlit stops the running work inside
    its next progress callback by raising a BaseException there, which no `except Exception` in the lab
    swallows. The lab's long work stores as it goes (eval results, ingest batches), so what finished is
    kept; the rerun shows the note (`announce_stopped_work`). Work that ends by itself, or with an error
    the page reports, clears it.
    """

    def __init__(self, text: str = "starting", stopped_note: str | None = None):
        self._stopped_note = stopped_note
        if stopped_note is None:
            self._bar, self._cancel = st.progress(0.0, text=text), None
            return
        bar_column, button_column = st.columns([9, 1], vertical_alignment="bottom")
        self._bar, self._cancel = bar_column.progress(0.0, text=text), button_column.empty()
        self._cancel.button("Cancel", key=f"cancel-{stopped_note}")

    def __enter__(self) -> "ProgressBar":
        st.session_state[STOPPED_NOTE_KEY] = self._stopped_note
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if error is None or isinstance(error, Exception):  # not Streamlit's stop: the work ended by itself
            st.session_state.pop(STOPPED_NOTE_KEY, None)
            if self._cancel is not None:
                self._cancel.empty()

    def __call__(self, fraction: float, message: str) -> None:
        self._bar.progress(min(max(fraction, 0.0), 1.0), text=markdown_literal(message))

    def empty(self) -> None:
        self._bar.empty()


def announce_stopped_work() -> bool:
    """After a Cancel (or leaving a page mid-work), say once what stopped and what was kept; True if so."""
    if note := st.session_state.pop(STOPPED_NOTE_KEY, None):
        st.info(note)
    return bool(note)


def lab_settings() -> LabSettings:
    """Read afresh on every run (environment and TOML file): cheap, and Settings-page changes apply at once."""
    return LabSettings()


@st.cache_resource(show_spinner="Loading the generator…", max_entries=2)
def _generator(settings_json: str) -> Generator:
    settings = LabSettings.model_validate_json(settings_json)
    return load_generator(settings, resolve_placement(settings))


@st.cache_resource(show_spinner="Opening the knowledge base…", max_entries=3)
def _context(settings_json: str, kb_name: str) -> LabContext:
    """Per KB; the models in it are the process's shared ones, so switching KB loads no model again."""
    settings = LabSettings.model_validate_json(settings_json)
    return context_with_models(
        settings, kb_name, _embedder(settings_json), _generator(settings_json), _extractor(settings.spacy_model)
    )


def cached_context(kb_name: str) -> LabContext:
    """The loaded context for these settings and this KB, shared by every page and session of the process."""
    return _context(lab_settings().model_dump_json(), kb_name)


def forget_contexts() -> None:
    """Drop loaded contexts after a KB changed, so the next question sees the new chunks."""
    _context.clear()


@st.cache_resource(show_spinner="Loading the embedder…")
def _embedder(settings_json: str):
    settings = LabSettings.model_validate_json(settings_json)
    return load_embedder(settings, resolve_placement(settings))


def cached_embedder():
    return _embedder(lab_settings().model_dump_json())


@st.cache_resource(show_spinner="Loading spaCy…")
def _extractor(spacy_model: str) -> EntityExtractor:
    return EntityExtractor.load(spacy_model)


@st.cache_resource(show_spinner=False)
def _graphs(spacy_model: str) -> GraphCache:
    return GraphCache(_extractor(spacy_model))


def cached_graphs() -> GraphCache:
    """The process's entity graphs, each read once per state of its KB (the Graph page's; contexts hold their own)."""
    return _graphs(lab_settings().spacy_model)


def choose_knowledge_base(container=st) -> str | None:
    """A KB picker; builds the demo KB first when the lab home has none, and explains when it cannot."""
    settings = lab_settings()
    if not knowledge_base_names(settings.home):
        with st.status("No knowledge base yet: building the bundled HotpotQA demo…", expanded=True) as status:
            ensure_demo_kb(settings, on_progress=ProgressBar(""))
            status.update(label="Demo knowledge base ready", state="complete", expanded=False)
    names = knowledge_base_names(settings.home)
    if not names:
        st.info("No knowledge base yet. Create one on the Corpus page or run `raglab ingest PATH --kb NAME`.")
        return None
    opening = names.index(DEMO_KB) if DEMO_KB in names else 0
    return container.selectbox("Knowledge base", names, index=opening, key="kb")


def build_demo_with_progress(demo: BundledDemo) -> IngestReport:
    """Build a bundled demo's knowledge base under a status box with a progress bar, then drop stale contexts."""
    with st.status(f"Building the bundled {demo.label} demo into `{demo.kb_name}`…", expanded=True) as status:
        report = build_bundled_demo(lab_settings(), demo.kb_name, on_progress=ProgressBar(""))
        status.update(label=f"Knowledge base `{demo.kb_name}` ready", state="complete", expanded=False)
    forget_contexts()
    return report
