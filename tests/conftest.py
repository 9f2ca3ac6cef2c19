"""Shared fixtures: real default models loaded once per session, knowledge bases in temp folders."""

import os
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
# A user's own ~/.raglab/settings.toml must not change what the tests see.
os.environ["RAGLAB_SETTINGS_FILE"] = os.path.join(tempfile.mkdtemp(prefix="raglab-settings-"), "settings.toml")

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import lab  # noqa: F401 - quiet, offline environment before model libraries load
from lab.context import LabContext
from lab.core.placement import Placement, resolve_placement
from lab.core.settings import LabSettings
from lab.graph import EntityExtractor
from lab.ingestion import DEMO_FILE
from lab.kb.chunking import make_chunker
from lab.kb.embedding import load_embedder
from lab.kb.knowledge_base import KnowledgeBase
from lab.llm.loading import embedded_gguf, load_generator
from tests.marks import mark_by_what_runs
from tests.servers import LlamaCppServer, lab_server

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SERVED_MODEL = "gemma-3-270m"
ECHO_MODEL = "gemma-3-270m-echo"
"""The same GGUF served with logits for every position, which prompt log-probabilities need."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_by_what_runs(items)


@pytest.fixture(scope="session")
def lab_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("raglab-home")


@pytest.fixture(scope="session")
def settings(lab_home: Path) -> LabSettings:
    return LabSettings(home=lab_home)


@pytest.fixture(scope="session")
def placement(settings: LabSettings) -> Placement:
    return resolve_placement(settings)


@pytest.fixture(scope="session")
def embedder(settings, placement):
    return load_embedder(settings, placement)


@pytest.fixture(scope="session")
def extractor(settings) -> EntityExtractor:
    """The default spaCy pipeline, loaded once as a context loads it."""
    return EntityExtractor.load(settings.spacy_model)


@pytest.fixture(scope="session")
def generator(settings, placement):
    """The default generator: the embedded GGUF through the llama-cpp backend."""
    return load_generator(settings, placement)


@pytest.fixture(scope="session")
def transformers_generator(settings, placement):
    """The same embedded model through transformers, the backend that measures its KV cache on live tensors."""
    return load_generator(settings.model_copy(update={"backend": "transformers"}), placement)


@pytest.fixture(scope="session")
def llama_server(settings, tmp_path_factory) -> Iterator[LlamaCppServer]:
    """llama-cpp-python's OpenAI-compatible server on the embedded GGUF, on 127.0.0.1, for the whole session."""
    server = LlamaCppServer(
        embedded_gguf(settings.model_cache),
        {SERVED_MODEL: {"logits_all": False, "n_threads": 2}, ECHO_MODEL: {"logits_all": True, "n_threads": 2}},
        tmp_path_factory.mktemp("llama-server"),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def served_lab(settings, demo_kb) -> Iterator[str]:
    """`raglab lab` on the session's home, started once: each test opens its own browser session on it, and
    the models it loads stay loaded for the next test, as for a user who keeps the lab running."""
    url, server = lab_server(settings.home, [])
    with server:
        yield url


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium per test module (Debian's, driven by playwright); each test opens its own page."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium) -> Iterator[Callable[[int, int], object]]:
    """Open a page of the module's Chromium at WIDTH x HEIGHT, in a context of its own; closed after the test."""
    contexts = []

    def open_page(width: int, height: int):
        contexts.append(chromium.new_context(viewport={"width": width, "height": height}))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


def server_settings(settings: LabSettings, url: str, **changes) -> LabSettings:
    """The session's settings, pointed at a generator server through the openai backend."""
    update = {"backend": "openai", "generator_url": url, "generator": SERVED_MODEL, "generator_retries": 1, **changes}
    return settings.model_copy(update=update)


def build_kb(settings: LabSettings, embedder, name: str, paths: list[Path], chunker: str = "recursive") -> KnowledgeBase:
    kb = KnowledgeBase.open(settings.home, name, create=True)
    kb.ingest(paths, embedder, make_chunker(chunker, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, None))
    return kb


@pytest.fixture(scope="session")
def demo_kb(settings, embedder) -> KnowledgeBase:
    return build_kb(settings, embedder, "demo", [DEMO_FILE])


@pytest.fixture(scope="session")
def demo_ctx(settings, embedder, generator, extractor, demo_kb) -> LabContext:
    return LabContext(settings=settings, generator=generator, embedder=embedder, kb=demo_kb, extractor=extractor)


@pytest.fixture(scope="session")
def demo_questions() -> list[dict]:
    return json.loads(DEMO_FILE.read_text())


def make_corpus_ctx(
    settings, embedder, generator, extractor, tmp_path: Path, name: str, documents: dict[str, str]
) -> LabContext:
    """A small hand-written corpus: one .md file per title, in its own KB."""
    folder = tmp_path / name
    folder.mkdir()
    for title, text in documents.items():
        (folder / f"{title}.md").write_text(f"# {title}\n\n{text}\n")
    kb = build_kb(settings, embedder, name, [folder])
    return LabContext(settings=settings, generator=generator, embedder=embedder, kb=kb, extractor=extractor)
