"""What every Streamlit page shares: the settings and the loaded models, built once per process.

The embedder and the generator are loaded once per process (per settings) and shared by every session
and every knowledge base; the in-process generator serializes its calls with its own lock.
"""

import lab  # noqa: F401 - offline and silent before model libraries load
import streamlit as st

from app.highlighting import markdown_literal
from lab.context import LabContext, context_with_models
from lab.core import LabSettings, resolve_placement
from lab.ingestion import DEMO_KB, BundledDemo, build_bundled_demo, ensure_demo_kb
from lab.kb import IngestReport, knowledge_base_names, load_embedder
from lab.llm import Generator, load_generator


class ProgressBar:
    """A progress bar fed by the lab's `on_progress(fraction, message)` callbacks. Messages name files and
    titles from the corpus, so they are shown literally, never read as Markdown."""

    def __init__(self, text: str = "starting"):
        self._bar = st.progress(0.0, text=text)

    def __call__(self, fraction: float, message: str) -> None:
        self._bar.progress(min(max(fraction, 0.0), 1.0), text=markdown_literal(message))

    def empty(self) -> None:
        self._bar.empty()


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
    return context_with_models(settings, kb_name, _embedder(settings_json), _generator(settings_json))


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
