"""reStructuredText pages (plain docutils and Sphinx sources) read with docutils.

docutils knows reST but not Sphinx's additions, so before a page is parsed every directive and role it
uses that docutils does not know is registered: a directive as a container whose content is parsed as
reST (or kept as code, for the code directives; dropped, for tables of contents and autodoc), a role as
inline code when it names code (`:func:`, `:option:`, `:envvar:`…), as a link for `:doc:` and `:ref:`, else
as its text. Includes and raw passthrough are switched off: a page must not read other files.

docutils is imported when the first page is read.
"""

import re
from functools import cache

from lab.kb.links import link_to, page_link, section_link
from lab.kb.page_text import PageStructure, PageWriter

CODE_DIRECTIVES = frozenset({"code-block", "sourcecode", "literalinclude", "code", "highlight", "prompt", "doctest", "testcode"})
UNRENDERED_DIRECTIVES = frozenset({
    "toctree", "include", "raw", "automodule", "autoclass", "autofunction", "automethod", "autoattribute",
    "autodata", "autoexception", "autosummary", "currentmodule", "module", "highlight", "index", "tabularcolumns",
    "only", "ifconfig", "image", "figure", "meta", "contents", "sectnum", "program", "default-role", "role",
})
DESCRIPTION_DIRECTIVES = frozenset({
    "option", "envvar", "function", "class", "method", "attribute", "data", "exception", "describe", "object",
    "decorator", "cmdoption", "confval", "setting",
})
"""Sphinx's object descriptions: their argument is a signature (`--rcfile=FILE`, `Coverage.start()`), so code."""
VERSION_NOTES = {"versionadded": "New in version {}.", "versionchanged": "Changed in version {}.",
                 "deprecated": "Deprecated since version {}.", "versionremoved": "Removed in version {}."}
"""How Sphinx words its version directives: the version is a fact of the page, not a bare number."""
PROSE_ROLES = frozenset({"term", "abbr", "dfn", "guilabel", "menuselection", "math", "sub", "sup", "emphasis", "strong"})
_DIRECTIVE_NAME = re.compile(r"^\s*\.\.\s+([\w:.-]+)::", re.MULTILINE)
_ROLE_NAME = re.compile(r":([\w.+-]+(?::[\w.+-]+)?):`")
_SETTINGS = {
    "report_level": 5, "halt_level": 5, "file_insertion_enabled": False, "raw_enabled": False,
    "doctitle_xform": False, "sectsubtitle_xform": False, "input_encoding": "unicode", "warning_stream": False,
    "embed_stylesheet": False, "syntax_highlight": "none",
}
_RST_SIGNS = (re.compile(r"^(\S.*)\n([=\-~^\"'`#*+])\2{2,}\s*$", re.MULTILINE), re.compile(r"^\.\.\s+[\w:.-]+::", re.MULTILINE),
              re.compile(r":\w+:`[^`]+`"), re.compile(r"^\.\.\s+_[^:]+:", re.MULTILINE), re.compile(r"``[^`]+``"))


def looks_like_rst(text: str) -> bool:
    """Two different signs of reST (an underlined title, a directive, a role, a target, ``literal``)."""
    return sum(bool(sign.search(text)) for sign in _RST_SIGNS) >= 2


def rst_page(source: str) -> tuple[str, str, PageStructure]:
    """A reST page's title (its first section title), clean text and structure."""
    writer = PageWriter()
    write_rst(source, writer)
    text, structure = writer.finish()
    return (structure.headings[0].title if structure.headings else ""), text, structure


def write_rst(source: str, writer: PageWriter) -> None:
    from docutils.core import publish_doctree

    _register_unknown(source)
    tree = publish_doctree(source, settings_overrides=_SETTINGS)
    _RstWalker(writer).walk(tree, 0)


def _register_unknown(source: str) -> None:
    from docutils.parsers.rst import directives, roles

    for name in set(_DIRECTIVE_NAME.findall(source)):
        if name not in directives._directives and name not in _known_directives():
            directives.register_directive(name, _generic_directive(name.rsplit(":", 1)[-1]))
    for name in set(_ROLE_NAME.findall(source)):
        if name not in roles._roles and name not in _known_roles():
            roles.register_local_role(name, _generic_role(name.rsplit(":", 1)[-1]))


@cache
def _known_directives() -> frozenset[str]:
    from docutils.parsers.rst.languages import en

    return frozenset(en.directives)


@cache
def _known_roles() -> frozenset[str]:
    from docutils.parsers.rst.languages import en

    return frozenset(en.roles)


def _generic_directive(name: str):
    from docutils import nodes
    from docutils.parsers.rst import Directive

    class GenericDirective(Directive):
        """A directive docutils does not know: its arguments become a title, its content reST or code."""

        optional_arguments = 100
        final_argument_whitespace = True
        has_content = True
        option_spec = None

        def run(self):
            if name in UNRENDERED_DIRECTIVES:
                return []
            if name in CODE_DIRECTIVES or looks_like_code(self.content):
                return [nodes.literal_block(text="\n".join(self.content))]
            container = nodes.container()
            if self.arguments and name in VERSION_NOTES:
                version, _, note = " ".join(self.arguments).partition(" ")
                container += nodes.paragraph(text=f"{VERSION_NOTES[name].format(version)} {note}".strip())
            elif self.arguments and name in DESCRIPTION_DIRECTIVES:
                container += nodes.paragraph("", "", nodes.literal(text=" ".join(self.arguments)))
            elif self.arguments:
                container += nodes.paragraph(text=" ".join(self.arguments))
            self.state.nested_parse(self.content, self.content_offset, container)
            return [container]

    GenericDirective.option_spec = _AnyOption()
    return GenericDirective


_CODE_LINE = re.compile(
    r"^\s*(?:@|def |class |import |from \S+ import|return |\$ |>>> |\.\.\. |#|[{}\[\]])|[:({\[,;)]\s*$|\w\(.*\)|\s==?\s"
)


def looks_like_code(lines) -> bool:
    """Directive content that is mostly lines of code (a decorator, a call, a block opener, a prompt), for
    directives whose meaning docutils does not know (`.. example::`, `.. click:run::`). Content holding
    directives of its own is reST."""
    filled = [line for line in lines if line.strip()]
    if any(_DIRECTIVE_NAME.match(line) for line in filled):
        return False
    return bool(filled) and sum(bool(_CODE_LINE.search(line)) for line in filled) >= 0.5 * len(filled)


class _AnyOption(dict):
    """Every option a directive is given is accepted and ignored (`:linenos:`, `:emphasize-lines: 3,5`)."""

    def __contains__(self, key) -> bool:
        return True

    def __getitem__(self, key):
        return lambda value: value


def _generic_role(name: str):
    from docutils import nodes

    def role(role_name, rawtext, text, lineno, inliner, options=None, content=None):
        shown, _, target = text.partition("<")
        shown, target = shown.strip(), target.rstrip(">").strip()
        if name in ("doc", "ref"):
            node = nodes.reference(rawtext, shown.rsplit("/", 1)[-1] if not target else shown or target)
            node["raglab_link"] = (name, target or shown)
            return [node], []
        if name in PROSE_ROLES:
            return [nodes.Text(shown or target)], []
        return [nodes.literal(rawtext, (shown or target).lstrip("~!"))], []

    return role


class _RstWalker:
    def __init__(self, writer: PageWriter):
        self.writer = writer
        self.table_cells = 0

    def walk(self, node, depth: int) -> None:
        from docutils import nodes

        writer = self.writer
        if isinstance(node, (nodes.comment, nodes.system_message, nodes.substitution_definition, nodes.raw,
                             nodes.pending, nodes.footnote_reference, nodes.citation_reference)):
            return
        if isinstance(node, nodes.Text):
            writer.text(str(node).replace("\n", " "))
            return
        for name in node.get("names", []) if isinstance(node, (nodes.section, nodes.target)) else []:
            writer.anchor(name.lower())
        if isinstance(node, nodes.section):
            title = node.next_node(nodes.title)
            writer.heading(depth + 1, title.astext() if title else "")
            for child in node.children:
                if child is not title:
                    self.walk(child, depth + 1)
            return
        if isinstance(node, (nodes.literal_block, nodes.doctest_block, nodes.math_block)):
            writer.code_block(node.astext())
            return
        if isinstance(node, nodes.literal):
            writer.inline_code(node.astext())
            return
        if isinstance(node, nodes.reference):
            kind, target = node.get("raglab_link", ("", ""))
            link = page_link(target) if kind == "doc" else section_link(target) if kind == "ref" else None
            writer.link(link or link_to(node.get("refuri", "") or "#" + node.get("refid", "")))
        if isinstance(node, nodes.list_item):
            writer.end_block()
            writer.prefix = "- "
        if isinstance(node, nodes.option_string):
            writer.inline_code(node.astext())
            writer.text(" ")
            return
        if isinstance(node, nodes.title) and isinstance(node.parent, (nodes.topic, nodes.sidebar, nodes.table)):
            writer.text(node.astext())
            writer.end_block()
            return
        self.table_cells += isinstance(node, nodes.entry)
        for child in node.children:
            self.walk(child, depth)
        self.table_cells -= isinstance(node, nodes.entry)
        if isinstance(node, nodes.paragraph) and self.table_cells:
            writer.text(" ")
        elif isinstance(node, (nodes.paragraph, nodes.term, nodes.field_name, nodes.row, nodes.line, nodes.option_group,
                             nodes.rubric, nodes.attribution, nodes.caption)):
            writer.end_block()
        elif isinstance(node, nodes.entry):
            writer.text(" | ")
