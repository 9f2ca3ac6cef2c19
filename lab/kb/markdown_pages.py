"""Markdown pages (CommonMark, GFM tables, MyST, MkDocs and MDX flavours) read with markdown-it-py.

The parser decides what is prose, code, a heading or a link; this module only says what each kind of
token leaves in the clean text. Markup that is not content leaves nothing: fence info strings
(```` ```python hl_lines="13 17" ````), admonition and block markers (`!!! tip`, `/// note | Title` keep
only their title), MyST directive options and targets, front matter (but its `title:`), HTML tags, and the
include lines of MkDocs snippets (`--8<--`) and FastAPI-style docs (`{! … !}`), whose files are pages of
their own or not content at all. MDX `import`/`export` lines are module code, not page text.

markdown-it-py and its plugins are imported when the first page is read.
"""

import re
from functools import cache

from lab.kb.links import link_to, page_link, section_link
from lab.kb.page_text import PageStructure, PageWriter

CODE_DIRECTIVES = frozenset({"code", "code-block", "code-cell", "sourcecode", "literalinclude", "prompt"})
UNRENDERED_DIRECTIVES = frozenset({"toctree", "include", "automodule", "autoclass", "autofunction", "raw", "image", "figure"})
LINK_ROLES = {"doc": page_link, "ref": section_link}
PROSE_ROLES = frozenset({"term", "abbr", "sub", "sup", "guilabel", "menuselection", "math"})
_SNIPPET_MARK = re.compile(r"^\s*;?-{1,}8<-{1,}")
_INLINE_INCLUDE = re.compile(r"\{!.*?!\}")
_TAB = re.compile(r'^(\s*)===[+!]*\s+"([^"\n]*)"\s*$')
_MDX_MODULE_LINE = re.compile(r"^(?:import|export)\s")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_DIRECTIVE_OPTION = re.compile(r"^:[\w-]+:.*$")
_WIKI_LINK = re.compile(r"\[\[([^\]|#]+)(?:#[^\]|]*)?(?:\|([^\]]*))?\]\]")
_ATTRIBUTE_LIST = re.compile(r"\{:?\s*[.#][^}\n]*\}")
_ICON_SHORTCODE = re.compile(r":(?:[a-z0-9]+-)+[a-z0-9]+:")
_INLINE_HIGHLIGHT = re.compile(r"^#!\w+\s+")
_CALLOUT = re.compile(r"^\[!\w+\][+-]?\s*")
"""Python-Markdown's attribute lists (`{: .class }`), Material's icon shortcodes (`:octicons-file-24:`) and
InlineHilite's language prefix (`#!python `), and a GitHub callout's marker (`> [!note]`): markup that Python-Markdown's extensions read, not content."""
_FRONT_MATTER_TITLE = re.compile(r"^title:\s*['\"]?(.*?)['\"]?\s*$", re.MULTILINE)


@cache
def _parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.admon import admon_plugin
    from mdit_py_plugins.colon_fence import colon_fence_plugin
    from mdit_py_plugins.container import container_plugin
    from mdit_py_plugins.deflist import deflist_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin
    from mdit_py_plugins.myst_blocks import myst_block_plugin
    from mdit_py_plugins.myst_role import myst_role_plugin

    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    for plugin in (front_matter_plugin, admon_plugin, myst_role_plugin, myst_block_plugin, deflist_plugin,
                   colon_fence_plugin, footnote_plugin):
        parser.use(plugin)
    return parser.use(container_plugin, name="block", marker="/", validate=lambda *_: True)


def markdown_page(source: str, mdx: bool = False) -> tuple[str, str, PageStructure]:
    """A Markdown page's title (front matter `title:`, else its first heading), clean text and structure."""
    writer = PageWriter()
    front_title = write_markdown(source, writer, mdx)
    text, structure = writer.finish()
    title = front_title or next((h.title for h in structure.headings if h.level == 1), "")
    return title or (structure.headings[0].title if structure.headings else ""), text, structure


def write_markdown(source: str, writer: PageWriter, mdx: bool = False) -> str:
    """Write a Markdown source into `writer`; returns the front matter's title, if it has one."""
    return _write_tokens(_parser().parse(_without_includes(source, mdx)), writer)


def _without_includes(source: str, mdx: bool) -> str:
    """The source with snippet and `{! … !}` include lines (and MDX module lines) removed, and MkDocs tabs
    (`=== "Title"`) written as the admonitions they parse like: outside code fences only, where a page
    may show these very syntaxes."""
    lines, fence, in_snippet_block = [], "", False
    for line in source.splitlines():
        if opening := _FENCE.match(line):
            marker = opening.group(1)
            fence = "" if fence and marker.startswith(fence) else fence or marker
        if fence:
            lines.append(line)
        elif _SNIPPET_MARK.match(line):
            in_snippet_block = line.strip().strip("-8<;") == "" and not in_snippet_block
        elif in_snippet_block or (mdx and _MDX_MODULE_LINE.match(line)):
            continue
        elif tab := _TAB.match(line):
            lines.append(f'{tab.group(1)}!!! tab "{tab.group(2)}"')
        else:
            lines.append(_INLINE_INCLUDE.sub("", line))
    return "\n".join(lines)


def _write_tokens(tokens, writer: PageWriter) -> str:
    title = ""
    heading_level = 0
    for token in tokens:
        kind = token.type
        if kind == "front_matter":
            match = _FRONT_MATTER_TITLE.search(token.content)
            title = match.group(1) if match else title
        elif kind == "heading_open":
            writer.end_block()
            heading_level = int(token.tag[1:])
        elif kind == "inline" and heading_level:
            heading = PageWriter()
            _write_inline(token.children or [], heading)
            heading_text, _ = heading.finish()
            writer.heading(heading_level, heading_text.replace("`", ""))
            heading_level = 0
        elif kind == "inline":
            _write_inline(token.children or [], writer)
        elif kind in ("paragraph_close", "admonition_title_close", "dt_close", "tr_close"):
            writer.end_block()
        elif kind in ("th_close", "td_close"):
            writer.text(" | ")
        elif kind == "list_item_open":
            writer.end_block()
            writer.prefix = "- "
        elif kind in ("fence", "code_block", "colon_fence"):
            _write_fence(token.info.strip(), token.content, writer)
        elif kind == "container_block_open":
            _, _, block_title = token.info.partition("|")
            name = token.info.split("|")[0].strip()
            if block_title.strip() and name != "html":
                writer.text(block_title.strip())
                writer.end_block()
        elif kind == "myst_target":
            writer.anchor(token.content.strip().lower())
        elif kind == "html_block":
            _write_html_text(token.content, writer)
        elif kind == "math_block":
            writer.code_block(token.content)
    return title


def _write_inline(children, writer: PageWriter) -> None:
    for child in children:
        kind = child.type
        if kind == "text":
            text = _ICON_SHORTCODE.sub("", _ATTRIBUTE_LIST.sub("", child.content))
            _write_text_with_wiki_links(_CALLOUT.sub("", text), writer)
        elif kind == "code_inline":
            writer.inline_code(_INLINE_HIGHLIGHT.sub("", child.content))
        elif kind in ("softbreak", "hardbreak"):
            writer.text(" ")
        elif kind == "link_open":
            writer.link(link_to(str(child.attrs.get("href", ""))))
        elif kind == "image":
            writer.text(child.content)
        elif kind == "myst_role":
            _write_role(child.meta.get("name", ""), child.content, writer)
        elif kind == "footnote_ref":
            continue


def _write_role(name: str, content: str, writer: PageWriter) -> None:
    """A MyST role: {doc} and {ref} are links (their text is kept); a role that names code ({func},
    {option}, {envvar}, …) is inline code; a prose role is its text."""
    shown, _, target = content.partition("<")
    role = name.rsplit(":", 1)[-1]
    if role in LINK_ROLES:
        writer.link(LINK_ROLES[role]((target.rstrip(">") if target else shown).strip()))
        writer.text(shown.strip() if target else shown.strip().rsplit("/", 1)[-1])
    elif role in PROSE_ROLES:
        writer.text(shown.strip())
    else:
        writer.inline_code((target.rstrip(">") if target and not shown.strip() else shown).strip().lstrip("~!"))


def _write_text_with_wiki_links(text: str, writer: PageWriter) -> None:
    cursor = 0
    for match in _WIKI_LINK.finditer(text):
        writer.text(text[cursor : match.start()])
        writer.link(page_link(match.group(1)))
        writer.text((match.group(2) or match.group(1)).strip())
        cursor = match.end()
    writer.text(text[cursor:])


def _write_fence(info: str, content: str, writer: PageWriter) -> None:
    """A fence is code unless its info string names a MyST directive: then it is code, nothing, reST
    (`{eval-rst}`) or Markdown content under a title, by the directive."""
    if not info.startswith("{"):
        writer.code_block(content)
        return
    name, _, argument = info[1:].partition("}")
    body = "\n".join(line for line in content.splitlines() if not _DIRECTIVE_OPTION.match(line))
    if name in CODE_DIRECTIVES:
        writer.code_block(body)
    elif name == "eval-rst":
        from lab.kb.rst_pages import write_rst

        write_rst(body, writer)
    elif name not in UNRENDERED_DIRECTIVES:
        if argument.strip():
            writer.text(argument.strip())
            writer.end_block()
        _write_tokens(_parser().parse(body), writer)


def _write_html_text(html: str, writer: PageWriter) -> None:
    """Raw HTML inside Markdown (MDX components included) leaves its text, not its tags."""
    from bs4 import BeautifulSoup

    for line in BeautifulSoup(html, "html.parser").get_text("\n").split("\n"):
        writer.text(line)
        writer.end_block()


MARKDOWN_SIGNS = (re.compile(r"^#{1,6}\s+\S", re.MULTILINE), re.compile(r"^```", re.MULTILINE),
                  re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"), re.compile(r"^\s*[-*]\s+\S", re.MULTILINE))


def looks_like_markdown(text: str) -> bool:
    """Two different signs of Markdown (an ATX heading, a fence, an inline link, a bullet list): a plain
    text file rarely has two, and reading one as Markdown costs it only its `#`s and backticks."""
    return sum(bool(sign.search(text)) for sign in MARKDOWN_SIGNS) >= 2
