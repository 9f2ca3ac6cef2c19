"""QA sets: the questions an evaluation asks, with what a right answer and right evidence look like.

Two formats. HotpotQA JSON (Yang et al., 2018): a list of records with `question`, `answer`,
`supporting_facts` ([title, sentence index] pairs) and `context` ([title, sentences] pairs); the gold
documents are the titles in `supporting_facts`, the gold contexts are those titles' paragraphs. And a
plain table, JSONL or CSV, with `question`, `reference` (the answer) and optional
`reference_contexts` / `reference_doc_titles` (JSON lists, or `|`-separated in CSV).

An item's id is the record's `_id` or `id` when it has one, else a hash of the question, so the same
file always gives the same ids and a run over it can be resumed.
"""

import csv
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.core import LabSettings
from lab.kb import IngestReport

ACCEPTED_FORMATS = (
    "HotpotQA JSON (a list of records with question, answer, supporting_facts, context), or JSONL/CSV with "
    "columns question, reference and optional reference_contexts, reference_doc_titles"
)


class QASetError(ValueError):
    pass


@dataclass(frozen=True)
class QAItem:
    item_id: str
    question: str
    reference: str
    reference_contexts: tuple[str, ...] = ()
    reference_doc_titles: tuple[str, ...] = ()
    kind: str = ""
    """The question's type when the file says it (`type`: single, yes_no, bridge, comparison in a generated set)."""


@dataclass(frozen=True)
class QASet:
    path: Path
    format: str
    sha256: str
    items: tuple[QAItem, ...]
    origin: dict[str, Any] | None = None
    """How a generated set was made (`raglab testset`: generator, seed, KB and its fingerprint); None for a set
    written by people or brought in, so a report can tell the two apart."""


def load_qa_set(path: Path, limit: int | None = None) -> QASet:
    """Read a QA file; a missing column is named with the formats accepted. `limit` keeps the first N items."""
    if not path.is_file():
        raise QASetError(f"No QA file {str(path)!r}. Accepted: {ACCEPTED_FORMATS}.")
    raw = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".json":
        records, kind = _json_records(raw, path), "hotpotqa"
    elif suffix == ".jsonl":
        records, kind = _jsonl_records(raw, path), "table"
    elif suffix == ".csv":
        records, kind = list(csv.DictReader(raw.decode("utf-8-sig").splitlines())), "table"
    else:
        raise QASetError(f"{path.name}: unknown QA file type {suffix!r}. Accepted: {ACCEPTED_FORMATS}.")
    if not records:
        raise QASetError(f"{path.name} holds no questions. Accepted: {ACCEPTED_FORMATS}.")
    parse = _hotpotqa_item if kind == "hotpotqa" else _table_item
    items = [parse(record, path, position) for position, record in enumerate(records, start=1)]
    _check_unique_ids(items, path)
    origin = records[0].get("origin") if kind == "table" and isinstance(records[0], dict) else None
    kept = tuple(items[:limit] if limit else items)
    return QASet(path.resolve(), kind, hashlib.sha256(raw).hexdigest(), kept, origin if isinstance(origin, dict) else None)


def build_kb_from_qa_set(
    settings: LabSettings, kb_name: str, qa_set: QASet, on_progress: Callable[[float, str], None] | None = None
) -> IngestReport:
    """Index the QA set's own paragraphs into `kb_name`, so one command can evaluate an unseen file.

    A HotpotQA file is ingested as it is (every context paragraph becomes a document). A table's
    reference contexts are written once to `HOME/qa_corpora/<stem>-<hash>.jsonl` and ingested from there.
    """
    from lab.ingestion import ingest_paths

    if qa_set.format == "hotpotqa":
        source = qa_set.path
    else:
        documents = [
            {"title": title, "text": text}
            for item in qa_set.items
            for position, text in enumerate(item.reference_contexts)
            for title in [_context_title(item, position)]
        ]
        if not documents:
            raise QASetError(
                f"{qa_set.path.name} has no reference_contexts to build a knowledge base from; "
                f"ingest the corpus with: raglab ingest PATH --kb {kb_name}"
            )
        source = settings.home / "qa_corpora" / f"{qa_set.path.stem}-{qa_set.sha256[:12]}.jsonl"
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text("".join(json.dumps(document) + "\n" for document in documents))
    progress = on_progress or (lambda fraction, message: None)
    return ingest_paths(settings, kb_name, [source], on_progress=progress)


def _context_title(item: QAItem, position: int) -> str:
    if position < len(item.reference_doc_titles):
        return item.reference_doc_titles[position]
    return f"{item.item_id}-{position + 1}"


def _json_records(raw: bytes, path: Path) -> list[Any]:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise QASetError(f"{path.name} is not valid JSON ({error}). Accepted: {ACCEPTED_FORMATS}.") from error
    if not isinstance(data, list):
        raise QASetError(f"{path.name} must hold a JSON list of records. Accepted: {ACCEPTED_FORMATS}.")
    return data


def _jsonl_records(raw: bytes, path: Path) -> list[Any]:
    records = []
    for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise QASetError(f"{path.name} line {number} is not valid JSON ({error}).") from error
    return records


def _require(record: Any, column: str, path: Path, position: int) -> Any:
    if not isinstance(record, dict) or column not in record or record[column] in (None, ""):
        raise QASetError(
            f"{path.name} record {position} has no {column!r} column. Accepted: {ACCEPTED_FORMATS}."
        )
    return record[column]


def _hotpotqa_item(record: Any, path: Path, position: int) -> QAItem:
    question = str(_require(record, "question", path, position))
    answer = str(_require(record, "answer", path, position))
    facts = _require(record, "supporting_facts", path, position)
    paragraphs = {str(title): "".join(str(s) for s in sentences).strip() for title, sentences in record.get("context", [])}
    gold_titles = tuple(dict.fromkeys(str(title) for title, _ in facts))
    return QAItem(
        item_id=str(record.get("_id") or record.get("id") or _question_id(question)),
        question=question,
        reference=answer,
        reference_contexts=tuple(paragraphs[title] for title in gold_titles if title in paragraphs),
        reference_doc_titles=gold_titles,
        kind=str(record.get("type") or ""),
    )


def _table_item(record: Any, path: Path, position: int) -> QAItem:
    question = str(_require(record, "question", path, position))
    return QAItem(
        item_id=str(record.get("id") or record.get("_id") or _question_id(question)),
        question=question,
        reference=str(_require(record, "reference", path, position)),
        reference_contexts=_string_list(record.get("reference_contexts")),
        reference_doc_titles=_string_list(record.get("reference_doc_titles")),
        kind=str(record.get("type") or ""),
    )


def _string_list(value: Any) -> tuple[str, ...]:
    """A JSON list as it is; a CSV cell as a JSON list when it parses as one, else split on '|'."""
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value.split("|")
        value = parsed if isinstance(parsed, list) else [parsed]
    return tuple(str(v).strip() for v in value if str(v).strip())


def _question_id(question: str) -> str:
    return hashlib.sha256(question.strip().encode()).hexdigest()[:16]


def _check_unique_ids(items: list[QAItem], path: Path) -> None:
    seen: set[str] = set()
    for item in items:
        if item.item_id in seen:
            raise QASetError(f"{path.name}: item id {item.item_id!r} appears twice; ids must be unique to resume a run.")
        seen.add(item.item_id)
