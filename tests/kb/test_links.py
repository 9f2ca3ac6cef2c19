"""Links between pages: read by each format's parser (Markdown, MyST, wiki, reST, HTML), resolved against the
corpus itself."""

import json

import pytest

from lab.kb.html_pages import html_page
from lab.kb.links import PAGE, SECTION, Link
from lab.kb.markdown_pages import markdown_page
from lab.kb.rst_pages import rst_page
from tests.conftest import build_kb


def links_in(page: tuple) -> list[Link]:
    _, _, structure = page
    return list(dict.fromkeys(found.link for found in structure.links))

PAGES = {
    "reports.md": "# Scheduled Reports\n\nReports run nightly. Where they are written is set on {doc}`storage-setup`; "
                  "the path itself is described under {ref}`the export path <export-path>`.",
    "storage-setup.md": "# Configuring Where Files Go\n\nFiles go to one folder.\n\n(export-path)=\n\n## Export path\n\n"
                        "The export path defaults to /var/lib/widget/out.",
    "glossary.md": "# Glossary\n\nA widget is the unit of work.",
    "index.md": "# Index\n\nSee [[Glossary]], [[Widget]], [all records](records.json) and [[nowhere]].",
}


def test_myst_roles_markdown_and_wiki_links_are_read_with_their_target_in_order_of_appearance():
    text = ("See {doc}`entry-points`, {ref}`the types <parameter-types>`, [the API](../api/Commands.md#group), "
            "[[Release Notes|notes]], [below](#limits) and {doc}`a guide </guide/setup>`.")

    assert links_in(markdown_page(text)) == [
        Link(PAGE, "entry-points"), Link(SECTION, "parameter-types"), Link(PAGE, "commands"),
        Link(PAGE, "release notes"), Link(SECTION, "limits"), Link(PAGE, "setup"),
    ]


def test_links_that_leave_the_corpus_are_not_followed_and_a_repeated_link_is_read_once():
    text = ("[site](https://example.org/docs/intro.md) [mail](mailto:a@b.c) [cdn](//cdn.example.org/x.md) "
            "[a](intro.md) [again](intro.md)")

    assert links_in(markdown_page(text)) == [Link(PAGE, "intro")]


def test_rest_roles_and_html_anchors_are_links_too_and_the_link_text_stays_in_the_clean_text():
    rst = "Title\n=====\n\nSee :doc:`/guide/setup`, :ref:`the path <export-path>` and `the site <https://x.org>`_."
    html = '<h1>T</h1><p>Read <a href="../setup.html#paths">the setup</a> or <a href="https://x.org">x</a>.</p>'

    assert links_in(rst_page(rst)) == [Link(PAGE, "setup"), Link(SECTION, "export-path")]
    assert "See setup, the path and the site." in rst_page(rst)[1]
    assert links_in(html_page(html)) == [Link(PAGE, "setup")]
    assert "Read the setup or x." in html_page(html)[1]


@pytest.fixture(scope="module")
def linked_kb(settings, embedder, tmp_path_factory):
    folder = tmp_path_factory.mktemp("links") / "corpus"
    folder.mkdir()
    for name, text in PAGES.items():
        (folder / name).write_text(text)
    records = [{"title": "Widget", "text": "A widget record."}, {"title": "Gadget", "text": "A gadget record."}]
    (folder / "records.json").write_text(json.dumps(records))
    return build_kb(settings, embedder, "links", [folder])


def titles_of(kb, chunk_ids: list[int]) -> set[str]:
    return {chunk.title for chunk in kb.store.chunks(chunk_ids).values()}


def chunk_titled(kb, title: str) -> int:
    ids, _ = kb.store.all_chunk_ids_and_texts()
    return next(i for i, chunk in kb.store.chunks(ids).items() if chunk.title == title)


def test_a_page_link_leads_to_the_page_its_file_is_named_by_and_a_section_link_to_the_chunk_holding_its_label(
    linked_kb,
):
    page, section = linked_kb.linked_chunks(chunk_titled(linked_kb, "Scheduled Reports"))

    assert titles_of(linked_kb, page) == {"Configuring Where Files Go"}
    assert len(section) == 1
    assert "The export path defaults to" in linked_kb.store.chunks(section)[section[0]].text


def test_a_page_is_found_by_its_title_too_but_a_file_of_many_records_names_none_of_them(linked_kb):
    by_title, widget = linked_kb.linked_chunks(chunk_titled(linked_kb, "Index"))

    assert titles_of(linked_kb, by_title) == {"Glossary"}
    assert titles_of(linked_kb, widget) == {"Widget"}
