"""A parsed page as the lab keeps it: clean text, and the structure the parser found in it.

Every format's loader writes into a `PageWriter` (`lab.kb.markdown_pages`, `lab.kb.rst_pages`,
`lab.kb.notebook_pages`, `lab.kb.html_pages`), so every format reaches the chunker in one shape: prose as
paragraphs, headings as Markdown `#` lines (the structure chunker and a reader both know them), code
blocks fenced with bare ``` lines (longer, when the code itself shows a fence), inline code in backticks, and nothing else of the markup. What the markup
meant is kept beside the text, by character position: the headings (a chunk's section path), the links (to
follow them without reading markup again) and the anchors a section link can land on.
"""

import re
from dataclasses import dataclass

from lab.kb.links import Link

CODE_FENCE = "```"
SECTION_SEPARATOR = " › "


@dataclass(frozen=True)
class Heading:
    position: int
    level: int
    title: str


@dataclass(frozen=True)
class PageLink:
    position: int
    link: Link


@dataclass(frozen=True)
class Anchor:
    position: int
    label: str


@dataclass(frozen=True)
class PageStructure:
    headings: tuple[Heading, ...] = ()
    links: tuple[PageLink, ...] = ()
    anchors: tuple[Anchor, ...] = ()


class PageWriter:
    """Collects one page's clean text block by block; inline text gathers until the block ends."""

    def __init__(self) -> None:
        self._blocks: list[str] = []
        self._length = 0
        self._inline: list[str] = []
        self._inline_length = 0
        self.headings: list[Heading] = []
        self.links: list[PageLink] = []
        self.anchors: list[Anchor] = []
        self.prefix = ""
        """Written before the next paragraph (a list item's "- ")."""

    def _position(self) -> int:
        separator = 2 if self._blocks else 0
        return self._length + separator + len(self.prefix) + self._inline_length

    def text(self, text: str) -> None:
        if not self._inline_length:
            text = text.lstrip()
        self._inline.append(text)
        self._inline_length += len(text)

    def inline_code(self, code: str) -> None:
        self.text(f"`{code}`" if code.strip() else code)

    def link(self, link: Link | None) -> None:
        """A link starting here; its visible text is written by the caller."""
        if link is not None:
            self.links.append(PageLink(self._position(), link))

    def anchor(self, label: str) -> None:
        if label:
            self.anchors.append(Anchor(self._position(), label))

    def end_block(self) -> None:
        """Close the inline text gathered so far as one paragraph (nothing when it is blank)."""
        text = "".join(self._inline).rstrip()
        self._inline, self._inline_length = [], 0
        if text:
            self._append(self.prefix + text)
        self.prefix = ""

    def heading(self, level: int, title: str) -> None:
        self.end_block()
        title = " ".join(title.split())
        if title:
            position = self._position()
            self.headings.append(Heading(position, level, title))
            self.anchor(heading_slug(title))
            self._append(f"{'#' * min(max(level, 1), 6)} {title}")

    def code_block(self, code: str) -> None:
        self.end_block()
        code = code.strip("\n")
        if code.strip():
            longest = max((len(run) for run in re.findall(r"^\s*(`{3,})", code, flags=re.MULTILINE)), default=2)
            fence = CODE_FENCE if longest < 3 else "`" * (longest + 1)
            self._append(f"{fence}\n{code}\n{fence}")

    def _append(self, block: str) -> None:
        if self._blocks:
            self._length += 2
        self._blocks.append(block)
        self._length += len(block)

    def finish(self) -> tuple[str, PageStructure]:
        self.end_block()
        text = "\n\n".join(self._blocks)
        return text, PageStructure(tuple(self.headings), tuple(self.links), tuple(self.anchors))


def heading_slug(title: str) -> str:
    """The anchor a heading is linked by on the rendered site: lower case, words joined by hyphens."""
    words = re.findall(r"[\w-]+", title.lower())
    return "-".join(word.strip("-") for word in words if word.strip("-"))


def section_path(title: str, headings: tuple[Heading, ...], position: int) -> str:
    """"Page › Section › Subsection" for text at `position`: the page title, then the headings it sits under
    (a first heading that repeats the title is not said twice)."""
    trail: list[Heading] = []
    for heading in headings:
        if heading.position > position:
            break
        trail = [h for h in trail if h.level < heading.level] + [heading]
    names = [title] + [h.title for h in trail]
    if len(names) > 1 and names[1] == title:
        names.pop(1)
    return SECTION_SEPARATOR.join(name for name in names if name)
