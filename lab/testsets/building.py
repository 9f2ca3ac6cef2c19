"""A test set built from a knowledge base: drafts of each kind, in the requested mix, until enough are kept.

Facts are read from the chunks in a seeded order, so the same KB, seed and mix give the same set. Drafts of
the four kinds are taken in turn, each kind until its share of the size is kept; a kind the corpus cannot
fill (no two pages giving years for one verb, say) leaves its places to single-fact items, and the summary
says how many of each were kept. A document gives at most its share of the items, so answers spread over
the corpus. Cost: spaCy over the chunks read, then per surviving draft one short closed-book generation
and one read of the cited passages.
"""

import hashlib
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lab.context import LabContext
from lab.graph import entity_key
from lab.testsets.drafting import (
    KINDS, Draft, Fact, dated_event, draft_bridge, draft_comparison, draft_single, draft_yes_no, facts_in,
    same_label_distractor,
)
from lab.testsets.filters import REASONS, ModelChecks, longest_shared_run, model_checks, text_rejection
from lab.testsets.review import write_records

DEFAULT_MIX: Mapping[str, float] = {"single": 0.5, "yes_no": 0.25, "bridge": 0.15, "comparison": 0.1}
"""A mix like the bundled demos' questions together: half single facts, a quarter yes/no (both answers),
the rest across two documents."""
CHUNKS_PER_ITEM = 40
"""Chunks read for facts per item asked for, at most: enough for every kind on the bundled corpora, and it
bounds the spaCy time on a large KB."""
DOCUMENT_SHARE = 3.0
"""A document gives at most this many times its even share of the items (and at least two)."""
KIND_NOUNS = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "place", "FAC": "place",
              "WORK_OF_ART": "work", "EVENT": "event", "PRODUCT": "product", "CODE": "name"}
"""How a bridge question names its middle entity by kind ("the person that …"); anything else is "the one"."""

Progress = Callable[[float, str], None]
_EXHAUSTED = object()


class MixError(ValueError):
    pass


def parse_mix(text: str) -> dict[str, float]:
    """"single=0.5,yes_no=0.25" as shares; an unknown kind or a bad number is named with the kinds known."""
    shares: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        kind, _, value = part.partition("=")
        try:
            share = float(value)
        except ValueError:
            share = -1.0
        if kind.strip() not in KINDS or share < 0:
            raise MixError(f"--mix part {part!r}: write KIND=SHARE with a share of 0 or more; kinds: {', '.join(KINDS)}")
        shares[kind.strip()] = share
    if not sum(shares.values()):
        raise MixError(f"--mix {text!r} gives every kind a share of 0; kinds: {', '.join(KINDS)}")
    return shares


def testset_path(home: Path, kb_name: str, seed: int) -> Path:
    """Where a generated set of this KB and seed lives in the lab home (the CLI and the page share it)."""
    return home / "testsets" / f"{kb_name}-seed{seed}.jsonl"


@dataclass(frozen=True)
class GenerationRequest:
    size: int = 60
    seed: int = 0
    mix: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))


@dataclass
class GeneratedSet:
    items: list[Draft]
    checks: list[ModelChecks]
    """What the generator answered for each kept item, shown beside it for review."""
    drafted: int
    facts_without_question: int
    rejected: Counter
    seconds: float
    origin: dict
    passages: dict[int, str]
    """Text of every cited chunk, by id."""

    def summary(self, out: Path | None = None) -> dict:
        """`drafted` counts the questions written; facts the rules could not turn into one are counted
        apart (they cost no generator call)."""
        return {
            "drafted": self.drafted,
            "kept": len(self.items),
            "kinds": dict(Counter(item.kind for item in self.items)),
            "rejected": {reason: self.rejected[reason] for reason in REASONS if self.rejected[reason]},
            "facts_without_question": self.facts_without_question,
            "seconds": round(self.seconds, 1),
            "generator": self.origin["generator"],
            "out": str(out) if out else None,
        }

    def records(self) -> list[dict]:
        """Items in the QA format `raglab eval --qa` reads (the cited chunks as reference contexts), with
        how each was made."""
        return [_record(item, checks, self.passages, self.origin) for item, checks in zip(self.items, self.checks)]


def build_testset(ctx: LabContext, request: GenerationRequest, on_progress: Progress | None = None) -> GeneratedSet:
    started = time.perf_counter()
    progress = on_progress or (lambda fraction, message: None)
    rng = random.Random(request.seed)
    chunks = ctx.kb.all_chunks()
    rng.shuffle(chunks)
    chunks = chunks[: CHUNKS_PER_ITEM * request.size]
    progress(0.0, f"reading facts from {len(chunks)} chunks")
    facts = facts_in(chunks, ctx.extractor.nlp)
    rng.shuffle(facts)
    documents = {chunk.doc_id for chunk in chunks}
    document_limit = max(2, math.ceil(DOCUMENT_SHARE * request.size / max(1, len(documents))))
    quotas = _quotas(request)
    streams = {kind: _drafts(kind, facts, ctx, rng) for kind in KINDS if quotas[kind] or kind == "single"}
    kept: list[Draft] = []
    kept_checks: list[ModelChecks] = []
    counts: Counter = Counter()
    per_document: Counter = Counter()
    rejected: Counter = Counter()
    drafted = unasked = 0
    while open_kinds := [kind for kind in streams if counts[kind] < quotas[kind]]:
        kind = min(open_kinds, key=lambda k: counts[k] / quotas[k])
        draft = next(streams[kind], _EXHAUSTED)
        if draft is _EXHAUSTED:
            del streams[kind]
            if kind != "single":
                quotas["single"] += quotas[kind] - counts[kind]
            continue
        if draft is None:
            unasked += 1
            continue
        drafted += 1
        reason, checks = _checked(draft, kept, per_document, document_limit, ctx)
        if reason:
            rejected[reason] += 1
            continue
        kept.append(draft)
        kept_checks.append(checks)
        counts[kind] += 1
        per_document.update(draft.doc_titles)
        progress(len(kept) / request.size, f"{len(kept)} of {request.size} kept, {drafted} drafted")
    origin = {
        "generator": f"{ctx.generator.backend}:{ctx.generator.model_id}",
        "method": "rules over the spaCy parse; generator filters",
        "seed": request.seed,
        "mix": dict(request.mix),
        "kb": ctx.kb.name,
        "kb_fingerprint": ctx.kb.fingerprint(),
        "answer_mode": ctx.settings.answer_mode,
    }
    cited = ctx.kb.chunks({chunk_id for item in kept for chunk_id in item.chunk_ids})
    passages = {chunk_id: chunk.text for chunk_id, chunk in cited.items()}
    return GeneratedSet(kept, kept_checks, drafted, unasked, rejected, time.perf_counter() - started, origin, passages)


def write_testset(testset: GeneratedSet, path: Path) -> None:
    write_records(testset.records(), path)


def _quotas(request: GenerationRequest) -> dict[str, int]:
    total = sum(max(0.0, request.mix.get(kind, 0.0)) for kind in KINDS) or 1.0
    quotas = {kind: round(request.size * max(0.0, request.mix.get(kind, 0.0)) / total) for kind in KINDS}
    quotas["single"] += request.size - sum(quotas.values())
    return quotas


def _checked(
    draft: Draft, kept: list[Draft], per_document: Counter, limit: int, ctx: LabContext
) -> tuple[str | None, ModelChecks | None]:
    """The first reason to drop the draft (None to keep it), and the generator's answers when it got that far."""
    if any(per_document[title] >= limit for title in draft.doc_titles):
        return "over_document_share", None
    if draft.kind == "yes_no" and _answer_lead(kept, draft.reference) > 0:
        return "answer_balance", None
    chunks = ctx.kb.chunks(draft.chunk_ids)
    if reason := text_rejection(draft, kept, lambda chunk_id: ctx.kb.document_text(chunks[chunk_id].doc_id)):
        return reason, None
    checks = model_checks(draft, ctx)
    return checks.rejection(draft.reference), checks


def _answer_lead(kept: list[Draft], answer: str) -> int:
    """How many more kept yes/no items have this answer than the other one."""
    answers = Counter(item.reference for item in kept if item.kind == "yes_no")
    return answers[answer] - answers["no" if answer == "yes" else "yes"]


def _drafts(kind: str, facts: list[Fact], ctx: LabContext, rng: random.Random) -> Iterator[Draft | None]:
    """Drafts of one kind, for each fact the rules could not turn."""
    if kind == "single":
        for fact in facts:
            yield draft_single(fact)
    elif kind == "yes_no":
        for number, fact in enumerate(facts):
            text = ctx.kb.document_text(fact.chunk.doc_id)
            distractor = same_label_distractor(fact, facts, text, rng.choice) if number % 2 else None
            if number % 2 and distractor is None:
                continue
            yield draft_yes_no(fact, distractor)
    elif kind == "bridge":
        yield from _bridges(facts)
    else:
        yield from _comparisons(facts)


def _bridges(facts: list[Fact]) -> Iterator[Draft | None]:
    """A mention on page A of a name that is page B's title, joined to a fact of page B about its subject."""
    by_page: dict[str, list[Fact]] = {}
    for fact in facts:
        by_page.setdefault(entity_key(fact.chunk.title), []).append(fact)
    for mention in facts:
        page = entity_key(mention.answer_text)
        if page == entity_key(mention.chunk.title) or page not in by_page:
            continue
        for fact in by_page[page]:
            yield draft_bridge(mention, fact, KIND_NOUNS.get(mention.label, "one"))


def _comparisons(facts: list[Fact]) -> Iterator[Draft | None]:
    """Pairs of pages dating the same kind of event, each page paired once."""
    by_event: dict[str, list[Fact]] = {}
    for fact in facts:
        if event := dated_event(fact):
            by_event.setdefault(event, []).append(fact)
    for dated in by_event.values():
        for first, second in zip(dated[::2], dated[1::2]):
            if first.chunk.doc_id != second.chunk.doc_id:
                yield draft_comparison(first, second)


def _record(item: Draft, checks: ModelChecks, passages: dict[int, str], origin: dict) -> dict:
    return {
        "id": hashlib.sha256(f"{item.kind}\0{item.question}".encode()).hexdigest()[:16],
        "question": item.question,
        "reference": item.reference,
        "reference_doc_titles": list(item.doc_titles),
        "reference_contexts": [passages[chunk_id] for chunk_id in item.chunk_ids],
        "type": item.kind,
        "source_chunk_ids": list(item.chunk_ids),
        "answer_spans": [e.to_dict() for e in item.evidence],
        "checks": {"longest_shared_run": max(longest_shared_run(item.question, s) for s in item.sentences),
                   **checks.to_dict()},
        "origin": origin,
    }
