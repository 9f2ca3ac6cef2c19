"""Links a page makes to other parts of the corpus, as its parser found them, and how they are named.

Documentation states a bridge as a link more often than as a name: "see {doc}`entry-points`" leads to a
page titled "Packaging Entry Points", which no entity, title or sentence of the first page spells out. So
each loader records the targets its parser reads (a Markdown link, a MyST or reST role, a wiki link) and
they are resolved against the corpus itself at query time: a page by its file's name or its title, a
section by its label or heading anchor. Links that leave the corpus (a scheme such as https:, a mail
address) are not recorded.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
PAGE, SECTION = "page", "section"


@dataclass(frozen=True)
class Link:
    """Where a link points: a page (by file name or title) or a section (by its label)."""

    kind: str
    target: str


def link_to(target: str) -> Link | None:
    """A written link target ("../api/commands.md#group", "#limits") as a link within the corpus, or None
    when it leaves the corpus or names nothing."""
    target = target.strip().strip("<>")
    if not target or _SCHEME.match(target) or target.startswith("//"):
        return None
    path, _, anchor = target.partition("#")
    if path:
        return Link(PAGE, name) if (name := page_name(path)) else None
    return Link(SECTION, anchor) if anchor else None


def page_link(name: str) -> Link | None:
    """A link by page name ({doc}`setup`, :doc:`/guide/setup`, [[Release Notes]])."""
    return Link(PAGE, page_name(name)) if name.strip() else None


def section_link(label: str) -> Link | None:
    return Link(SECTION, label.strip().lower()) if label.strip() else None


def page_name(path: str) -> str:
    """A link target or source path as the name a page is found by: the file name without its suffix."""
    name = PurePosixPath(path.replace("\\", "/").rstrip("/")).name
    return (name.rsplit(".", 1)[0] if "." in name else name).lower()
