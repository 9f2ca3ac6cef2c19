"""Corpus text on the page: question terms marked, and every piece of a document's markup left inert."""

import re

from app.highlighting import answer_html, highlight_terms, passage_html

HOSTILE_TITLE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
HOSTILE_TEXT = "# Fake heading\n[click me](javascript:alert(3)) <a href='https://example.com'>x</a> **bold**"


def test_question_terms_are_marked_and_the_text_is_escaped():
    marked = highlight_terms("Ed Wood <b>directed</b> films.", "Who directed Ed Wood?")
    assert marked == "<mark>Ed</mark> <mark>Wood</mark> &lt;b&gt;<mark>directed</mark>&lt;/b&gt; films."


def test_a_hostile_title_and_text_leave_only_the_labs_own_tags():
    rendered = passage_html(HOSTILE_TITLE, 0.5, HOSTILE_TEXT, "Who clicked?")
    tags = set(re.findall(r"<\s*/?\s*([a-zA-Z]+)", rendered))
    assert tags <= {"p", "b", "br", "mark"}
    assert "&lt;script&gt;" in rendered and "&lt;img" in rendered and "&lt;a href" in rendered


def test_passages_and_answers_are_html_not_markdown_so_markdown_stays_text():
    """st.html does not read Markdown: a '# ' line, a link or '**' in a document show as the characters they are."""
    rendered = passage_html("Notes", 0.1, HOSTILE_TEXT, "")
    assert "# Fake heading" in rendered and "[click me](javascript:alert(3))" in rendered
    assert answer_html("<img src=x onerror=alert(1)>") == "<p><b>&lt;img src=x onerror=alert(1)&gt;</b></p>"
    assert answer_html("") == "<p><b>(empty answer)</b></p>"


HOSTILE_PAGES = {
    "page.md": "# <img src=x onerror=alert(1)> Title\n\n```html\n<script>alert(2)</script>\n```\n\n`<b onmouseover=alert(3)>`",
    "page.mdx": "import X from 'x';\n\n# Title\n\n<Widget onClick={alert(4)}>text <script>alert(5)</script></Widget>\n\n"
                "```\n<img src=x onerror=alert(6)>\n```",
    "page.rst": "Title <script>\n===============\n\n.. code-block:: html\n\n   <img src=x onerror=alert(7)>\n\n"
                "``<svg onload=alert(8)>`` and `x <javascript:alert(9)>`_",
    "page.html": "<h1>T</h1><pre>&lt;script&gt;alert(10)&lt;/script&gt;</pre><code>&lt;img src=x onerror=alert(11)&gt;</code>",
    "page.ipynb": '{"cells": [{"cell_type": "code", "metadata": {}, "execution_count": null, "outputs": [], '
                  '"source": "print(\\"<script>alert(12)</script>\\")"}, {"cell_type": "markdown", "metadata": {}, '
                  '"source": "# <img src=x onerror=alert(13)> T"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
}


def test_hostile_markup_in_every_format_reaches_the_page_as_text(tmp_path):
    """Code keeps what it shows, so a page's `<script>` survives parsing as code: the page still gets it as text."""
    from lab.kb.loaders import load_documents

    for name, source in HOSTILE_PAGES.items():
        (tmp_path / name).write_text(source)
        document, = load_documents(tmp_path / name)
        rendered = passage_html(document.title, 0.5, document.text, "alert")
        tags = set(re.findall(r"<\s*/?\s*([a-zA-Z]+)", rendered))
        assert tags <= {"p", "b", "br", "mark"}, name
