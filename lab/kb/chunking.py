"""Chunkers: five ways to cut a document into retrievable pieces, each named and selectable.

Every chunker returns character spans into the original text, so a chunk can always be traced back
to where it came from. Sizes are counted in embedder tokens, because the embedder truncates what is
longer than its window and a chunk it cannot see whole is a chunk it cannot find.

- `fixed`: windows of N tokens overlapping by M. Predictable; cuts mid-sentence.
- `recursive`: split on paragraphs, then lines, then sentences, then words, only as far as needed.
- `semantic`: break between sentences whose embeddings diverge most (percentile threshold), in the
  spirit of Kamradt's "semantic chunking"; costs one embedding per sentence.
- `structure`: sections under Markdown/HTML headings, each split further only when too long.
- `llm`: the generator judges, sentence by sentence, whether the text moves to a new topic (it scores
  " yes"/" no" continuations; a base model cannot be trusted to emit boundaries). Slow: one scoring call
  per sentence.
"""

import re
from collections.abc import Callable
from typing import Protocol

import numpy as np

from lab.core.text import Span, sentence_spans, trimmed
from lab.kb.embedding import Embedder
from lab.llm.backend import Generator


class Chunker(Protocol):
    name: str

    def split(self, text: str) -> list[Span]: ...


class UnknownChunker(ValueError):
    pass


class TokenCounter:
    """Counts and locates embedder tokens in text."""

    def __init__(self, embedder: Embedder):
        self._tokenizer = embedder.tokenizer

    def count(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False, verbose=False).input_ids)

    def offsets(self, text: str) -> list[tuple[int, int]]:
        encoded = self._tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        return [tuple(pair) for pair in encoded["offset_mapping"]]


class FixedTokenChunker:
    name = "fixed"

    def __init__(self, tokens: TokenCounter, size: int, overlap: int):
        if overlap >= size:
            raise ValueError(f"chunk_overlap_tokens ({overlap}) must be smaller than chunk_tokens ({size})")
        self.tokens, self.size, self.overlap = tokens, size, overlap

    def split(self, text: str) -> list[Span]:
        offsets = self.tokens.offsets(text)
        spans = []
        for first in range(0, max(len(offsets), 1), self.size - self.overlap):
            window = offsets[first : first + self.size]
            if not window:
                break
            if (span := trimmed(text, window[0][0], window[-1][1])) is not None:
                spans.append(span)
            if first + self.size >= len(offsets):
                break
        return spans


class RecursiveChunker:
    name = "recursive"
    separators = ("\n\n", "\n", ". ", " ")

    def __init__(self, tokens: TokenCounter, size: int):
        self.tokens, self.size = tokens, size

    def split(self, text: str) -> list[Span]:
        return self._split(text, 0, len(text), 0)

    def _split(self, text: str, start: int, end: int, level: int) -> list[Span]:
        if self.tokens.count(text[start:end]) <= self.size:
            return [s] if (s := trimmed(text, start, end)) else []
        if level == len(self.separators):
            return [
                Span(start + s.start, start + s.end)
                for s in FixedTokenChunker(self.tokens, self.size, 0).split(text[start:end])
            ]
        pieces = _pieces(text, start, end, self.separators[level])
        spans: list[Span] = []
        group_start = group_end = None
        for piece_start, piece_end in pieces:
            if group_start is not None and self.tokens.count(text[group_start:piece_end]) <= self.size:
                group_end = piece_end
                continue
            if group_start is not None:
                spans.extend(self._split(text, group_start, group_end, level + 1))
            group_start, group_end = piece_start, piece_end
        if group_start is not None:
            spans.extend(self._split(text, group_start, group_end, level + 1))
        return spans


def _pieces(text: str, start: int, end: int, separator: str) -> list[tuple[int, int]]:
    """Split [start, end) after each separator, keeping every character in exactly one piece."""
    pieces, cursor = [], start
    while cursor < end:
        found = text.find(separator, cursor, end)
        stop = end if found == -1 else found + len(separator)
        pieces.append((cursor, stop))
        cursor = stop
    return pieces


BREAK_PERCENTILE = 90.0
"""The semantic chunker breaks at the 10% widest gaps between adjacent sentences. Chosen by hand, not searched;
`bench/chunking.py` reads the chunker at this value on every question of both demos."""


class SemanticChunker:
    name = "semantic"

    def __init__(self, tokens: TokenCounter, embedder: Embedder, size: int, percentile: float = BREAK_PERCENTILE):
        self.tokens, self.embedder, self.size, self.percentile = tokens, embedder, size, percentile

    def split(self, text: str) -> list[Span]:
        sentences = sentence_spans(text)
        if len(sentences) < 2:
            return sentences
        vectors = self.embedder.embed_many([text[s.start : s.end] for s in sentences])
        distances = 1.0 - np.sum(vectors[:-1] * vectors[1:], axis=1)
        threshold = float(np.percentile(distances, self.percentile))
        breaks = [distance >= threshold for distance in distances]
        return _group(text, sentences, breaks, self.tokens, self.size)


class StructureChunker:
    name = "structure"

    def __init__(self, tokens: TokenCounter, size: int):
        self.tokens, self.fallback = tokens, RecursiveChunker(tokens, size)

    def split(self, text: str) -> list[Span]:
        starts = [m.start() for m in re.finditer(r"^#{1,6}\s", text, flags=re.MULTILINE)]
        bounds = sorted({0, *starts, len(text)})
        spans: list[Span] = []
        for start, end in zip(bounds, bounds[1:]):
            spans.extend(Span(start + s.start, start + s.end) for s in self.fallback.split(text[start:end]))
        return spans


class LLMChunker:
    name = "llm"
    context_sentences = 3
    """Sentences the model reads before each boundary it judges; chosen by hand, not searched (`bench/chunking.py`
    reads the chunker at this value on both demos)."""

    def __init__(self, tokens: TokenCounter, size: int, generator_provider: Callable[[], Generator]):
        self.tokens, self.size, self.generator_provider = tokens, size, generator_provider
        self.rule_split_chunks = 0
        """Chunks that begin inside a sentence: the rule splitter cut a group the model kept whole but that ran over the size."""

    def split(self, text: str) -> list[Span]:
        sentences = sentence_spans(text)
        generator = self.generator_provider()
        breaks = []
        for i in range(1, len(sentences)):
            before = " ".join(text[s.start : s.end] for s in sentences[max(0, i - self.context_sentences) : i])
            after = text[sentences[i].start : sentences[i].end]
            prompt = f"Passage: {before}\nNext sentence: {after}\nDoes the next sentence stay on the same topic? Answer:"
            same, new = generator.score(prompt, [" Yes", " No"])
            breaks.append(new > same)
        spans = _group(text, sentences, breaks, self.tokens, self.size)
        sentence_starts = {sentence.start for sentence in sentences}
        self.rule_split_chunks += sum(span.start not in sentence_starts for span in spans)
        return spans


def _group(text: str, sentences: list[Span], breaks: list[bool], tokens: TokenCounter, size: int) -> list[Span]:
    """Join consecutive sentences into chunks, starting a new one at each break or when full."""
    spans: list[Span] = []
    start = sentences[0].start
    for i in range(1, len(sentences)):
        full = tokens.count(text[start : sentences[i].end]) > size
        if breaks[i - 1] or full:
            spans.append(Span(start, sentences[i - 1].end))
            start = sentences[i].start
    spans.append(Span(start, sentences[-1].end))
    oversize = RecursiveChunker(tokens, size)
    result: list[Span] = []
    for span in spans:
        if tokens.count(text[span.start : span.end]) <= size:
            result.append(span)
        else:
            result.extend(Span(span.start + s.start, span.start + s.end) for s in oversize.split(text[span.start : span.end]))
    return result


CHUNKER_NAMES = ("recursive", "fixed", "semantic", "structure", "llm")


def make_chunker(
    name: str, embedder: Embedder, size: int, overlap: int, generator_provider: Callable[[], Generator]
) -> Chunker:
    tokens = TokenCounter(embedder)
    if name == "fixed":
        return FixedTokenChunker(tokens, size, overlap)
    if name == "recursive":
        return RecursiveChunker(tokens, size)
    if name == "semantic":
        return SemanticChunker(tokens, embedder, size)
    if name == "structure":
        return StructureChunker(tokens, size)
    if name == "llm":
        return LLMChunker(tokens, size, generator_provider)
    raise UnknownChunker(f"No chunker {name!r}; known: {', '.join(CHUNKER_NAMES)}. Pass one with --chunker.")
