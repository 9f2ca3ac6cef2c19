"""Turning files into documents, one format at a time, with a reason for every file that fails.

Markup formats are parsed by the libraries made for them (`lab.kb.markdown_pages`, `rst_pages`,
`notebook_pages`, `html_pages`) into clean text plus structure; a `.txt` file whose content is clearly
reStructuredText or Markdown is read as such, any other as plain text.

A HotpotQA-format JSON (records with `context: [[title, [sentences...]], ...]`) becomes one document
per unique paragraph, titled by the title the record gives it; that is what the demo corpus and most QA sets
in this format look like.
"""

import codecs
import dataclasses
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.kb.html_pages import html_page
from lab.kb.markdown_pages import looks_like_markdown, markdown_page
from lab.kb.notebook_pages import NotANotebook, notebook_page
from lab.kb.page_text import PageStructure
from lab.kb.rst_pages import looks_like_rst, rst_page

SUPPORTED_SUFFIXES = (
    ".txt", ".md", ".markdown", ".mdx", ".rst", ".rest", ".ipynb", ".html", ".htm", ".pdf", ".json", ".jsonl",
)


@dataclass(frozen=True)
class Document:
    title: str
    text: str
    source: str
    encoding: str = "utf-8"
    structure: PageStructure = field(default=PageStructure(), compare=False)
    """Headings, links and anchors by position in `text`, for the formats that have them."""


class UnreadableFile(ValueError):
    """A file that cannot be indexed; the message names the problem and the fix."""


@dataclass
class FoundFiles:
    """What a list of paths holds: the files to read, the paths that are wrong, and what is left out."""

    files: list[Path] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """Files in the given folders that are not read (a type the lab does not read, or a hidden folder)."""


def unsupported_reason(path: Path) -> str:
    return f"not a type the lab reads ({path.suffix or 'no suffix'}); supported: {', '.join(SUPPORTED_SUFFIXES)}"


def find_files(paths: Iterable[Path]) -> FoundFiles:
    """Expand folders into supported files; name every path that does not exist and every file left out."""
    found = FoundFiles()
    for path in paths:
        if not path.exists():
            found.missing.append((str(path), "path does not exist; check the spelling or give an absolute path"))
        elif path.is_dir():
            _walk_folder(path, found)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.files.append(path)
        else:
            found.missing.append((str(path), unsupported_reason(path)))
    return found


def _walk_folder(folder: Path, found: FoundFiles) -> None:
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            kind = "folder" if path.is_dir() else "file"
            found.skipped.append((str(path), f"hidden {kind} (its name starts with '.'); give its path to read it"))
        elif path.is_dir():
            _walk_folder(path, found)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.files.append(path)
        elif path.is_file():
            found.skipped.append((str(path), unsupported_reason(path)))


def load_documents(path: Path) -> list[Document]:
    """Read one file into documents; raise UnreadableFile naming what is wrong with it."""
    suffix = path.suffix.lower()
    encoding = "utf-8"
    if suffix == ".pdf":
        documents = _pdf_documents(path)
    else:
        text, encoding = read_text(path)
        if suffix == ".json":
            documents = _json_documents(_parse_json(text, path), path)
        elif suffix == ".jsonl":
            documents = _jsonl_documents(text, path)
        else:
            documents = [_page_document(text, path)]
    documents = [d for d in documents if d.text.strip()]
    if not documents:
        raise UnreadableFile("no text found in the file (empty, or only markup); add text or remove the file")
    if encoding != "utf-8":
        documents = [dataclasses.replace(d, encoding=encoding) for d in documents]
    return documents


_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def read_text(path: Path) -> tuple[str, str]:
    """A text file's text and the encoding it was read with: a byte-order mark decides first, then UTF-8,
    then charset detection (latin-1, cp1252 and the like). NUL bytes without a mark mean binary."""
    raw = path.read_bytes()
    if not raw.strip():
        raise UnreadableFile("empty file; add text or remove it from the ingest")
    for mark, encoding in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            try:
                return raw.decode(encoding), encoding.removesuffix("-sig")
            except UnicodeDecodeError as error:
                raise UnreadableFile(
                    f"starts with a {encoding} byte-order mark but does not decode as {encoding} ({error.reason} at "
                    f"offset {error.start}); re-save the file as UTF-8"
                ) from None
    if b"\x00" in raw[:8192]:
        raise UnreadableFile(f"binary content in a {path.suffix} file; only plain text files can be ingested as text")
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        first_bad = f"byte 0x{raw[error.start]:02x} at offset {error.start}"
    return _legacy_text(raw, first_bad)


# Code pages documents are still saved in; detection among all of Python's codecs picks Mac and DOS pages
# for short Western texts (German latin-1 came back as mac_roman), so the field is narrowed to these.
_LEGACY_ENCODINGS = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "latin_1", "iso8859_2",
    "iso8859_5", "iso8859_7", "iso8859_15", "koi8_r", "shift_jis", "euc_jp", "gb18030", "big5", "euc_kr",
)


def _legacy_text(raw: bytes, first_bad: str) -> tuple[str, str]:
    """Detected with charset_normalizer; among the equally clean readings, cp1252 (the Western default, a
    superset of latin-1's printable range) wins, because a short text fits several code pages."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(raw, cp_isolation=list(_LEGACY_ENCODINGS)))
    if not matches:
        raise UnreadableFile(f"not UTF-8 text ({first_bad}) and no other text encoding fits; re-save it as UTF-8")
    cleanest = min(match.chaos for match in matches)
    tied = [match for match in matches if match.chaos <= cleanest + 0.01]
    if any("cp1252" in match.could_be_from_charset for match in tied):
        return raw.decode("cp1252"), "cp1252"
    return str(tied[0]), tied[0].encoding


def _page_document(text: str, path: Path) -> Document:
    """One page, parsed by its format: the suffix decides, and for `.txt` the content does."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        suffix = ".rst" if looks_like_rst(text) else ".md" if looks_like_markdown(text) else ".txt"
    if suffix == ".txt":
        return Document(path.stem, text, str(path))
    if suffix in (".html", ".htm"):
        title, clean, structure = html_page(text)
    elif suffix in (".rst", ".rest"):
        title, clean, structure = rst_page(text)
    elif suffix == ".ipynb":
        try:
            title, clean, structure = notebook_page(text)
        except NotANotebook as error:
            raise UnreadableFile(f"not a Jupyter notebook nbformat can read ({error}); re-save it from Jupyter") from None
    else:
        title, clean, structure = markdown_page(text, mdx=suffix == ".mdx")
    return Document(title or path.stem, clean, str(path), structure=structure)


def _pdf_documents(path: Path) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
        title = (reader.metadata.title if reader.metadata else None) or path.stem
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise UnreadableFile(f"corrupt or unreadable PDF ({error}); re-export it or remove it from the ingest") from None
    return [Document(str(title), text.strip(), str(path))]


def _parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableFile(
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}; fix the file or export it again"
        ) from None


def _json_documents(data: Any, path: Path) -> list[Document]:
    records = data if isinstance(data, list) else [data]
    documents: list[Document] = []
    for position, record in enumerate(records):
        documents.extend(_record_documents(record, path, f"record {position}"))
    return _unique(documents)


def _jsonl_documents(text: str, path: Path) -> list[Document]:
    documents: list[Document] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise UnreadableFile(f"invalid JSON on line {number}: {error.msg}; each line must be one JSON object") from None
        documents.extend(_record_documents(record, path, f"line {number}"))
    return _unique(documents)


def _record_documents(record: Any, path: Path, where: str) -> Iterator[Document]:
    if isinstance(record, dict) and isinstance(record.get("context"), list):
        for paragraph in record["context"]:
            if isinstance(paragraph, list) and len(paragraph) == 2 and isinstance(paragraph[1], list):
                title, sentences = paragraph
                yield Document(str(title), "".join(str(s) for s in sentences).strip(), str(path))
        return
    if isinstance(record, dict) and isinstance(record.get("text"), str):
        yield Document(str(record.get("title") or path.stem), record["text"], str(path))
        return
    raise UnreadableFile(
        f"{where} is neither a HotpotQA record (with 'context') nor an object with a 'text' field; "
        "use one of those two shapes"
    )


def _unique(documents: list[Document]) -> list[Document]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for document in documents:
        key = (document.title, document.text)
        if key not in seen:
            seen.add(key)
            unique.append(document)
    return unique
