"""A generated set as its user reviews it: read from the lab home, accepted, edited or rejected item by item,
and written back to the same file, so the page and `raglab testset` share one copy."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Verdict:
    """The user's word on one item: keep it or not, with the question and reference as they now read."""

    keep: bool
    question: str
    reference: str


def saved_testsets(home: Path) -> list[Path]:
    """Generated sets in the lab home, newest first."""
    folder = home / "testsets"
    return sorted(folder.glob("*.jsonl"), key=lambda path: path.stat().st_mtime, reverse=True) if folder.is_dir() else []


def generated_from(path: Path) -> str | None:
    """The knowledge base a generated set was made from (its first record's origin), or None."""
    records = read_records(path)
    return records[0].get("origin", {}).get("kb") if records else None


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def reviewed(records: Sequence[dict], verdicts: Sequence[Verdict]) -> list[dict]:
    """The records kept, each marked "accepted" or "edited" (an edited one keeps its id, so a run over the
    set resumes across the edit); rejected ones are left out."""
    kept = []
    for record, verdict in zip(records, verdicts, strict=True):
        if not verdict.keep:
            continue
        question, reference = " ".join(verdict.question.split()), " ".join(verdict.reference.split())
        edited = (question, reference) != (record["question"], record["reference"])
        kept.append({**record, "question": question, "reference": reference, "review": "edited" if edited else "accepted"})
    return kept


def write_records(records: Sequence[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records))
