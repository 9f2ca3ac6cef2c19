"""HTML pages (exported docs sites, saved web pages) read with BeautifulSoup's HTML parser.

Headings, paragraphs, list items and table rows become blocks; `<pre>` is a code block and `<code>`
inline code; `<a href>` a link; scripts, styles, navigation chrome and forms leave nothing.
"""

from lab.kb.links import link_to
from lab.kb.page_text import PageStructure, PageWriter

DROPPED = frozenset({"title", "script", "style", "noscript", "template", "svg", "nav", "form", "button", "select", "head"})
BLOCKS = frozenset({"p", "div", "section", "article", "main", "blockquote", "dd", "dt", "tr", "li", "td", "th",
                    "figcaption", "caption", "table", "ul", "ol", "dl", "body", "header", "footer", "aside", "br", "hr"})


def html_page(html: str) -> tuple[str, str, PageStructure]:
    """An HTML page's title (`<title>`, else its first heading), clean text and structure."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    writer = PageWriter()
    _walk(soup, writer)
    text, structure = writer.finish()
    return title or next((h.title for h in structure.headings), ""), text, structure


def _walk(node, writer: PageWriter) -> None:
    from bs4 import Comment, NavigableString, Tag

    for child in node.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            raw, words = str(child), " ".join(str(child).split())
            writer.text(f"{' ' if raw[:1].isspace() else ''}{words}{' ' if raw[-1:].isspace() and words else ''}")
            continue
        if not isinstance(child, Tag) or child.name in DROPPED:
            continue
        name = child.name
        for label in (child.get("id"), child.get("name") if name == "a" else None):
            if label:
                writer.anchor(str(label).lower())
        if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            writer.heading(int(name[1]), child.get_text(" ", strip=True))
        elif name == "pre":
            writer.code_block(child.get_text())
        elif name in ("code", "kbd", "samp"):
            writer.inline_code(child.get_text())
        elif name == "img":
            writer.text(str(child.get("alt", "")))
        else:
            if name == "a":
                writer.link(link_to(str(child.get("href", ""))))
            if name == "li":
                writer.end_block()
                writer.prefix = "- "
            elif name in BLOCKS:
                writer.end_block()
            _walk(child, writer)
            if name in ("td", "th"):
                writer.text(" | ")
            elif name in BLOCKS:
                writer.end_block()
