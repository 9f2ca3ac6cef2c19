"""Shared fixtures: real default models loaded once per session, knowledge bases in temp folders."""

import os

import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
# A user's own ~/.raglab/settings.toml must not change what the tests see.
os.environ["RAGLAB_SETTINGS_FILE"] = os.path.join(tempfile.mkdtemp(prefix="raglab-settings-"), "settings.toml")

import json
from pathlib import Path

import pytest

import lab  # noqa: F401 - quiet, offline environment before model libraries load
from lab.contracts import LabContext
from lab.ingestion import DEMO_FILE
from lab.knowledge_base import KnowledgeBase
from lab.chunking import make_chunker
from lab.models import Placement, load_embedder, load_generator, resolve_placement
from lab.settings import LabSettings

REPO_ROOT = Path(__file__).resolve().parent.parent


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
def generator(settings, placement):
    return load_generator(settings, placement)


def build_kb(settings: LabSettings, embedder, name: str, paths: list[Path], chunker: str = "recursive") -> KnowledgeBase:
    kb = KnowledgeBase.open(settings.home, name, create=True)
    kb.ingest(paths, embedder, make_chunker(chunker, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, None))
    return kb


@pytest.fixture(scope="session")
def demo_kb(settings, embedder) -> KnowledgeBase:
    return build_kb(settings, embedder, "demo", [DEMO_FILE])


@pytest.fixture(scope="session")
def demo_ctx(settings, embedder, generator, demo_kb) -> LabContext:
    return LabContext(settings=settings, generator=generator, embedder=embedder, kb=demo_kb)


@pytest.fixture(scope="session")
def demo_questions() -> list[dict]:
    return json.loads(DEMO_FILE.read_text())


def make_corpus_ctx(settings, embedder, generator, tmp_path: Path, name: str, documents: dict[str, str]) -> LabContext:
    """A small hand-written corpus: one .md file per title, in its own KB."""
    folder = tmp_path / name
    folder.mkdir()
    for title, text in documents.items():
        (folder / f"{title}.md").write_text(f"# {title}\n\n{text}\n")
    kb = build_kb(settings, embedder, name, [folder])
    return LabContext(settings=settings, generator=generator, embedder=embedder, kb=kb)
