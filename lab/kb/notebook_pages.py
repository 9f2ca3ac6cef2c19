"""Jupyter notebooks read with nbformat: Markdown cells as Markdown pages, code cells as code blocks.

Outputs are left out: they are results of one run (tables, tracebacks, images as base64), not the page's
text, and they are often longer than everything else in it.
"""

from lab.kb.markdown_pages import write_markdown
from lab.kb.page_text import PageStructure, PageWriter


class NotANotebook(ValueError):
    """The file is not a notebook nbformat can read; the message says why."""


def notebook_page(source: str) -> tuple[str, str, PageStructure]:
    """A notebook's title (its metadata title, else its first heading), clean text and structure."""
    import nbformat

    try:
        notebook = nbformat.reads(source, as_version=4)
    except Exception as error:  # nbformat raises JSON, validation and version errors of several kinds
        raise NotANotebook(str(error).splitlines()[0] if str(error) else type(error).__name__) from None
    writer = PageWriter()
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            write_markdown(cell.source, writer)
        elif cell.cell_type == "code":
            writer.code_block(cell.source)
    text, structure = writer.finish()
    title = notebook.metadata.get("title") or next((h.title for h in structure.headings), "")
    return str(title), text, structure
