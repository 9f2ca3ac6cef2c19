"""Entities and relations read from text with spaCy: the raw facts the entity graph is built from.

An entity is a named-entity span (dates, amounts and nationalities are dropped: they join unrelated
passages rather than facts) or the title of the document a chunk belongs to, unless the chunk has no
named entity at all (a file name such as "notes" is no entity; entity-free text adds nothing). Names
are compared in a normal form (`entity_key`) that ignores case, accents, punctuation, a possessive 's, a leading "the"
and a title's trailing "(disambiguator)". Within one document a short form is merged into the full name
it abbreviates ("Derrickson" -> "Scott Derrickson") or nearly spells (rapidfuzz ratio), as a reader would.

Relations are subject-verb-object triples read off the dependency parse and labelled by the verb
("born in", "direct"); a pronoun subject is taken to be the document's title entity, the one coreference
rule an encyclopedia-style corpus rewards. Left out: a trained coreference model, and linking names to
an external knowledge base, so two people with one name are one entity here.

Cost: one spaCy pass per chunk, batched with `nlp.pipe` (about 4 s for 200 paragraphs on 2 CPU cores).
"""

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

NON_ENTITY_LABELS = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL", "NORP"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
TITLE_LABEL = "TITLE"
NEAR_SPELLING_RATIO = 90.0
"""rapidfuzz similarity (0-100) above which two spellings name one entity; chosen by hand, not searched."""
_PRONOUNS = frozenset({"he", "she", "it", "they"})
_DISAMBIGUATOR = re.compile(r"\s*\([^()]*\)\s*$")
_POSSESSIVE = re.compile(r"['’]s\b")
_WORD = re.compile(r"[^\W_]+")


def entity_key(name: str) -> str:
    """The normal form two names must share to be one entity."""
    name = _DISAMBIGUATOR.sub("", name)
    name = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    words = _WORD.findall(_POSSESSIVE.sub("", name.lower()))
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def abbreviates(short: str, full: str) -> bool:
    """True when the key `short` is the first or last words of the key `full` ("derrickson", "scott derrickson")."""
    short_words, full_words = short.split(), full.split()
    n = len(short_words)
    return 0 < n < len(full_words) and (full_words[:n] == short_words or full_words[-n:] == short_words)


def capitalized_names(text: str, max_words: int = 6) -> Iterator[str]:
    """Keys of every run of up to `max_words` words that starts with a capital or a digit, for gazetteer lookup."""
    words = _WORD.findall(_POSSESSIVE.sub("", text))
    for start, first in enumerate(words):
        if first[0].isupper() or first[0].isdigit():
            for end in range(start + 1, min(start + max_words, len(words)) + 1):
                yield entity_key(" ".join(words[start:end]))


@dataclass(frozen=True)
class ChunkText:
    chunk_id: int
    doc_id: int
    title: str
    text: str


@dataclass(frozen=True)
class Mention:
    key: str
    name: str
    label: str
    count: int
    is_title: bool


@dataclass(frozen=True)
class Relation:
    subject: str
    verb: str
    object: str


@dataclass(frozen=True)
class ChunkFacts:
    """What one chunk says: the entities it mentions, which of them share a sentence, and their relations."""

    chunk_id: int
    mentions: tuple[Mention, ...]
    cooccurrences: tuple[tuple[str, str, int], ...]
    relations: tuple[Relation, ...]


@dataclass(frozen=True)
class _Span:
    key: str
    name: str
    label: str
    start: int
    end: int


class EntityExtractor:
    """A spaCy pipeline, used for named entities, sentences and the dependency parse."""

    def __init__(self, nlp):
        self.nlp = nlp

    @classmethod
    def load(cls, model_name: str) -> "EntityExtractor":
        """Load the spaCy pipeline; a context loads it once (`lab.context`) and passes it down, as it does the
        generator and the embedder."""
        import spacy

        try:
            return cls(spacy.load(model_name))
        except OSError as error:
            raise OSError(
                f"spaCy pipeline {model_name!r} is not installed ({error}); install it with pip "
                "or set RAGLAB_SPACY_MODEL to an installed pipeline."
            ) from None

    def extract(
        self, chunks: Sequence[ChunkText], on_progress: Callable[[float, str], None] | None = None, batch_size: int = 64
    ) -> list[ChunkFacts]:
        """Facts for every chunk; aliases are resolved over all the chunks of a document given together."""
        parsed = []
        for doc in self.nlp.pipe((c.text for c in chunks), batch_size=batch_size):
            parsed.append(doc)
            if on_progress and (len(parsed) % batch_size == 0 or len(parsed) == len(chunks)):
                on_progress(len(parsed) / len(chunks), f"entities in {len(parsed)}/{len(chunks)} chunks")
        positions_by_document: dict[int, list[int]] = defaultdict(list)
        for position, chunk in enumerate(chunks):
            positions_by_document[chunk.doc_id].append(position)
        facts: list[ChunkFacts | None] = [None] * len(chunks)
        for positions in positions_by_document.values():
            title_key = entity_key(chunks[positions[0]].title)
            spans = {p: _entity_spans(parsed[p]) for p in positions}
            aliases = document_aliases(title_key, [s for p in positions for s in spans[p]])
            for p in positions:
                facts[p] = _chunk_facts(chunks[p], parsed[p], spans[p], aliases, title_key)
        return [f for f in facts if f is not None]



def _entity_spans(doc) -> list[_Span]:
    spans = []
    for ent in doc.ents:
        key = entity_key(ent.text)
        if ent.label_ not in NON_ENTITY_LABELS and key and not key.isdigit():
            spans.append(_Span(key, _POSSESSIVE.sub("", ent.text.strip()), ent.label_, ent.start, ent.end))
    return spans


def document_aliases(title_key: str, spans: Sequence[_Span]) -> dict[str, str]:
    """Each short or misspelt name in a document, mapped to the fuller name it stands for there.

    Place names are never shortened into longer ones: "Kansas" is not "Kansas City".
    """
    counts = Counter(s.key for s in spans)
    labels = {s.key: s.label for s in spans}
    if title_key:
        counts[title_key] += 1
    aliases = {}
    for short in counts:
        if labels.get(short) in PLACE_LABELS:
            continue
        fuller = [
            full
            for full in counts
            if full != short
            and (
                abbreviates(short, full)
                or (
                    fuzz.ratio(short, full) >= NEAR_SPELLING_RATIO
                    and (counts[full], len(full)) > (counts[short], len(short))
                )
            )
        ]
        if fuller:
            aliases[short] = max(fuller, key=lambda full: (full == title_key, counts[full], len(full)))
    for short, full in aliases.items():
        seen = {short}
        while full in aliases and full not in seen:
            seen.add(full)
            full = aliases[full]
        aliases[short] = full
    return aliases


def _chunk_facts(chunk: ChunkText, doc, spans: list[_Span], aliases: dict[str, str], title_key: str) -> ChunkFacts:
    entity_at_token: dict[int, str] = {}
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    labels: dict[str, str] = {}
    for span in spans:
        key = aliases.get(span.key, span.key)
        counts[key] += 1
        names.setdefault(key, span.name)
        labels.setdefault(key, span.label)
        for i in range(span.start, span.end):
            entity_at_token[i] = key
    if not counts:
        title_key = ""
    mentions = [Mention(k, names[k], labels[k], n, k == title_key) for k, n in counts.items() if k != title_key]
    if title_key:
        mentions.append(Mention(title_key, chunk.title, labels.get(title_key, TITLE_LABEL), counts[title_key], True))

    pairs: Counter[tuple[str, str]] = Counter()
    for sentence in doc.sents:
        keys = sorted({entity_at_token[t.i] for t in sentence if t.i in entity_at_token})
        pairs.update((a, b) for i, a in enumerate(keys) for b in keys[i + 1 :])
    if title_key:
        pairs.update(tuple(sorted((title_key, k))) for k in counts if k != title_key)
    relations = tuple(dict.fromkeys(_relations(doc, entity_at_token, title_key)))
    return ChunkFacts(chunk.chunk_id, tuple(mentions), tuple((a, b, n) for (a, b), n in pairs.items()), relations)


def _relations(doc, entity_at_token: dict[int, str], title_key: str) -> Iterator[Relation]:
    for verb in doc:
        if verb.pos_ != "VERB":
            continue
        subject = _subject_of(verb)
        if subject is None:
            continue
        subject_key = title_key if subject.lower_ in _PRONOUNS else _entity_of(subject, entity_at_token)
        if not subject_key:
            continue
        for obj, preposition in _objects_of(verb):
            object_key = _entity_of(obj, entity_at_token)
            if object_key and object_key != subject_key:
                yield Relation(subject_key, _verb_label(verb, preposition), object_key)


def _subject_of(verb, depth: int = 0):
    """The verb's subject; for "a film starring X" the noun it modifies, for "born and raised" the first verb's."""
    for child in verb.children:
        if child.dep_ in ("nsubj", "nsubjpass"):
            return child
    if depth < 3 and verb.dep_ in ("acl", "relcl"):
        head = verb.head
        if head.dep_ in ("attr", "appos") and head.head.pos_ in ("AUX", "VERB"):
            return _subject_of(head.head, depth + 1) or head
        return head
    if depth < 3 and verb.dep_ == "conj":
        return _subject_of(verb.head, depth + 1)
    return None


def _objects_of(verb) -> Iterator[tuple[object, str]]:
    for child in verb.children:
        if child.dep_ in ("dobj", "attr", "oprd", "dative"):
            yield child, ""
        elif child.dep_ in ("prep", "agent"):
            for grandchild in child.children:
                if grandchild.dep_ == "pobj":
                    yield grandchild, child.lower_


def _entity_of(token, entity_at_token: dict[int, str]) -> str | None:
    if token.i in entity_at_token:
        return entity_at_token[token.i]
    for child in token.children:
        if child.dep_ in ("compound", "appos", "flat", "nmod", "poss") and child.i in entity_at_token:
            return entity_at_token[child.i]
    return None


def _verb_label(verb, preposition: str) -> str:
    """The lemma, except that a passive participle keeps its form: "born in" reads better than "bear in"."""
    word = verb.lower_ if verb.tag_ == "VBN" else verb.lemma_.lower()
    return f"{word} {preposition}" if preposition else word


def corpus_aliases(entities: Sequence[tuple[str, str, str]], titles: set[str]) -> dict[str, str]:
    """One-word names mapped to the one page title they start or end, corpus-wide ("nixon" -> "richard nixon").

    Made when the graph is loaded, not stored, so a page ingested later is picked up. A name that is a page
    title itself, a place, longer than a word ("corliss archer" is not the show "Meet Corliss Archer"), or
    the short form of two titles ("wood": Ed Wood, Elijah Wood) stays as it is.
    """
    by_end_word: dict[str, list[str]] = defaultdict(list)
    for title in titles:
        words = title.split()
        by_end_word[words[0]].append(title)
        if len(words) > 1:
            by_end_word[words[-1]].append(title)
    aliases = {}
    for key, _, label in entities:
        if key in titles or label in PLACE_LABELS or " " in key:
            continue
        fuller = {t for t in by_end_word.get(key, ()) if abbreviates(key, t)}
        if len(fuller) == 1:
            aliases[key] = fuller.pop()
    return aliases
