"""Links a passage makes to other parts of the corpus: Markdown, MyST roles and wiki links.

Documentation states a bridge as a link more often than as a name: "see {doc}`entry-points`" leads to a
page titled "Packaging Entry Points", which no entity, title or sentence of the first page spells out. So
the targets are read as written and resolved against the corpus itself: a page by its file's name or its
title, a section by the label that marks it (MyST's `(label)=` line above a heading). Links that leave the
corpus (a scheme such as https:, a mail address) are not followed.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_MYST_ROLE = re.compile(r"\{(doc|ref)\}`(?:[^`<]*<)?([^`<>]+)>?`")
_MARKDOWN = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_WIKI = re.compile(r"\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|[^\]]*)?\]\]")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
PAGE, SECTION = "page", "section"


@dataclass(frozen=True)
class Link:
    """Where a link points: a page (by file name or title) or a section (by its label)."""

    kind: str
    target: str


def links_in(text: str) -> list[Link]:
    """The links of the text to pages and sections of the same corpus, each once, in order of appearance."""
    found: list[tuple[int, Link]] = []
    for match in _MYST_ROLE.finditer(text):
        kind = PAGE if match.group(1) == "doc" else SECTION
        target = match.group(2).strip()
        found.append((match.start(), Link(kind, page_name(target) if kind == PAGE else target)))
    for match in _MARKDOWN.finditer(text):
        target = match.group(1)
        if _SCHEME.match(target) or target.startswith("//"):
            continue
        path, _, anchor = target.partition("#")
        link = Link(PAGE, page_name(path)) if path else Link(SECTION, anchor)
        if link.target:
            found.append((match.start(), link))
    for match in _WIKI.finditer(text):
        found.append((match.start(), Link(PAGE, match.group(1).strip().lower())))
    return list(dict.fromkeys(link for _, link in sorted(found, key=lambda pair: pair[0])))


def page_name(path: str) -> str:
    """A link target or source path as the name a page is found by: the file name without its suffix."""
    name = PurePosixPath(path.replace("\\", "/").rstrip("/")).name
    return (name.rsplit(".", 1)[0] if "." in name else name).lower()


def label_line(label: str) -> str:
    """How a section label is written above its heading (MyST), to find the chunk that holds it."""
    return f"({label})="
