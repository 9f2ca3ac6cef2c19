"""Every docs format read the way its readers see it, on real pages of the bundled docs corpora: prose as prose,
code kept as code, markup that is not content gone, headings giving each chunk its section path, links kept
beside the text."""

import re
from pathlib import Path

import pytest

from lab.kb.links import SECTION, Link
from lab.kb import KnowledgeBase, make_chunker
from lab.kb.loaders import SUPPORTED_SUFFIXES, load_documents
from lab.kb.page_text import section_path
from tests.conftest import build_kb

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
COVERAGE = DATASETS / "coverage_docs"
PYMDOWNX = DATASETS / "pymdownx_docs"
CLICK = DATASETS / "click_docs"
NOTEBOOK = Path(__file__).resolve().parents[1] / "fixtures" / "notebooks" / "test4.ipynb"
MARKUP_DEBRIS = re.compile(r"^\s*(\.\. [\w:-]+::|///|!!!|\?\?\?|===|--8<--|:[\w-]+: )|hl_lines|linenums=|\{!>|\{: ", re.MULTILINE)


def page(path: Path):
    document, = load_documents(path)
    return document


def prose(text: str) -> str:
    return re.sub(r"```\n.*?\n```", "", text, flags=re.DOTALL)


def test_a_sphinx_page_keeps_its_options_and_settings_as_code_and_drops_directives_and_roles():
    config = page(COVERAGE / "config.rst")

    assert config.title == "Configuration reference"
    assert "`--rcfile=FILE` command line option or with the `COVERAGE_RCFILE` environment variable" in config.text
    assert "```\n[run]\nbranch = True" in config.text
    assert not MARKUP_DEBRIS.search(prose(config.text)) and ":ref:`" not in config.text
    assert Link(SECTION, "subprocess") in {found.link for found in config.structure.links}


def test_a_rest_man_page_saved_as_txt_is_read_as_rest():
    man = page(COVERAGE / "python-coverage.1.txt")

    assert man.title == "python-coverage"
    assert "=====" not in man.text and man.structure.headings


def test_an_mkdocs_page_drops_tab_admonition_block_and_snippet_markers_and_keeps_code_and_titles():
    tabbed, highlight = page(PYMDOWNX / "extensions" / "tabbed.md"), page(PYMDOWNX / "extensions" / "highlight.md")

    assert tabbed.title == "Tabbed"
    assert "Tab 1\n\nMarkdown content.\n\nMultiple paragraphs." in tabbed.text
    assert '```\n=== "Tab 1"\n    Markdown **content**.' in tabbed.text, "a page's own example of the syntax stays code"
    for document in (tabbed, highlight):
        assert not MARKUP_DEBRIS.search(prose(document.text)), document.title
    assert "`guess_language`" in highlight.text and "octicons" not in highlight.text


def test_a_myst_page_renders_its_eval_rst_blocks_and_keeps_examples_as_code():
    options = page(CLICK / "options.md")

    assert "```\n@click.command()\n@click.option('--string-to-echo', 'string_to_echo')" in options.text
    assert "{eval-rst}" not in options.text and ".. click:example::" not in options.text
    assert Link(SECTION, "parameter-types") in {found.link for found in options.structure.links}


def test_a_notebook_is_its_markdown_cells_and_code_cells_without_outputs():
    notebook = page(NOTEBOOK)

    assert notebook.title == "nbconvert latex test"
    assert "Lorem ipsum dolor sit amet" in notebook.text
    assert '```\nfrom __future__ import annotations\n\nprint("hello")\n```' in notebook.text
    assert "image/png" not in notebook.text and "iVBOR" not in notebook.text


def test_mdx_module_lines_and_components_leave_only_their_text(tmp_path):
    mdx = tmp_path / "install.mdx"
    mdx.write_text("import Tabs from '@theme/Tabs';\nexport const meta = {};\n\n# Install\n\n"
                   "<Tabs>\n<TabItem value=\"pip\">\n\nRun `pip install widget`.\n\n</TabItem>\n</Tabs>\n")
    document = page(mdx)

    assert document.title == "Install"
    assert "import Tabs" not in document.text and "<Tabs>" not in document.text
    assert "Run `pip install widget`." in document.text


def test_a_chunk_knows_its_section_path_from_the_headings_above_it():
    config = page(COVERAGE / "config.rst")
    position = config.text.index("Environment variables can be substituted in by using dollar signs")

    assert section_path(config.title, config.structure.headings, position) == (
        "Configuration reference › Syntax › Environment variables"
    )


def test_a_folder_ingest_names_every_file_it_leaves_out_and_the_types_it_reads(settings, embedder, tmp_path):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for name in ("config.rst", "LICENSE", "NOTICE"):
        (corpus / name).write_bytes((COVERAGE / name).read_bytes())
    (corpus / "logo.png").write_bytes(b"\x89PNG\r\n")
    (corpus / ".git").mkdir()
    kb = KnowledgeBase.open(settings.home, "left-out", create=True)

    report = kb.ingest([corpus], embedder, make_chunker("recursive", embedder, settings.chunk_tokens, 0, None))

    assert [Path(path).name for path in report.indexed] == ["config.rst"]
    assert [Path(failure.path).name for failure in report.skipped] == [".git", "LICENSE", "NOTICE", "logo.png"]
    assert ", ".join(SUPPORTED_SUFFIXES) in report.skipped[-1].reason and not report.failures


@pytest.fixture(scope="module")
def coverage_kb(settings, embedder):
    return build_kb(settings, embedder, "coverage-pages", [COVERAGE])


def test_chunks_carry_their_section_path_and_a_ref_role_leads_to_the_labelled_section(coverage_kb):
    ids, _ = coverage_kb.store.all_chunk_ids_and_texts()
    chunks = coverage_kb.store.chunks(ids)
    setting = next(chunk for chunk in chunks.values() if "Whether to measure the Python standard library" in chunk.text)
    assert setting.section.startswith("Configuration reference › [run] › [run] ")
    assert sum(chunk.section.startswith("Configuration reference › [run] › ") for chunk in chunks.values()) > 3
    linking = next(i for i, chunk in chunks.items() if "See subprocess for more details" in chunk.text)
    assert (SECTION, "subprocess") in coverage_kb.store.links_of(linking)
    landed = [coverage_kb.store.chunks(group)[group[0]] for group in coverage_kb.linked_chunks(linking)]
    assert any(chunk.title == page(COVERAGE / "subprocess.rst").title for chunk in landed)
