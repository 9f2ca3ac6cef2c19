"""Chunkers: spans point into the original text, respect the size bound, and cut where each promises."""

import pytest

from lab.kb.chunking import CHUNKER_NAMES, TokenCounter, UnknownChunker, make_chunker

ARTICLE = """# Volcanoes

A volcano is a rupture in the crust of a planet. Magma rises through it from a chamber below. Eruptions can be explosive or effusive.

## Famous eruptions

Vesuvius buried Pompeii in 79 AD. Krakatoa exploded in 1883 and was heard thousands of kilometres away.

# Baking bread

Bread is made from flour, water, yeast and salt. The dough rises as yeast ferments sugars. Bakers knead dough to develop gluten.
"""


@pytest.mark.parametrize("name", CHUNKER_NAMES)
def test_every_chunker_returns_trimmed_spans_into_the_text_within_the_size_bound(name, embedder, generator):
    chunker = make_chunker(name, embedder, size=40, overlap=8, generator_provider=lambda: generator)
    spans = chunker.split(ARTICLE)
    tokens = TokenCounter(embedder)
    assert spans
    for span in spans:
        text = ARTICLE[span.start : span.end]
        assert text == text.strip() and text
        assert tokens.count(text) <= 40


def test_fixed_windows_overlap_by_the_requested_tokens(embedder):
    text = " ".join(f"word{i}" for i in range(300))
    spans = make_chunker("fixed", embedder, size=50, overlap=10, generator_provider=None).split(text)
    assert len(spans) > 3
    assert all(later.start < earlier.end for earlier, later in zip(spans, spans[1:]))


def test_structure_chunks_never_straddle_a_heading(embedder):
    spans = make_chunker("structure", embedder, size=200, overlap=0, generator_provider=None).split(ARTICLE)
    for span in spans:
        assert "\n#" not in ARTICLE[span.start : span.end]
    assert len(spans) == 3


def test_semantic_chunking_separates_unrelated_topics(embedder):
    spans = make_chunker("semantic", embedder, size=200, overlap=0, generator_provider=None).split(ARTICLE)
    assert not any("Vesuvius" in ARTICLE[s.start : s.end] and "yeast" in ARTICLE[s.start : s.end] for s in spans)


def test_recursive_keeps_a_paragraph_whole_when_it_fits(embedder):
    spans = make_chunker("recursive", embedder, size=256, overlap=0, generator_provider=None).split(ARTICLE)
    assert len(spans) == 1


def test_an_unknown_chunker_lists_the_known_ones(embedder):
    with pytest.raises(UnknownChunker, match="known: recursive, fixed, semantic, structure, llm"):
        make_chunker("paragraphs", embedder, size=100, overlap=0, generator_provider=None)
