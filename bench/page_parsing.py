"""What parsing docs formats costs an ingest: the same files read as plain text and read by their parsers.

For each docs corpus, side by side in one run: reading every page as plain text (the file's text, as the lab
read `.md` before its parsers) against parsing it (`load_documents`), then cutting the result with the
default chunker and embedding every chunk, which is most of an ingest (the entity graph comes after and reads
chunks either way). Prints seconds for reading and for the whole read-chunk-embed path, chunk counts, and the
ratio parsed / plain. A quiet CPU is assumed.

    .venv/bin/python bench/page_parsing.py [--corpora docs-demo,coverage-docs,pymdownx-docs]
"""

import argparse
import time
from pathlib import Path

import lab  # noqa: F401
from lab.core import LabSettings
from lab.core.placement import resolve_placement
from lab.ingestion import EVALUATION_CORPORA
from lab.kb import Embedder, load_embedder, make_chunker
from lab.kb.loaders import Document, find_files, load_documents, read_text


def plain(path: Path) -> list[Document]:
    return [Document(path.stem, read_text(path)[0], str(path))]


def timed_ingest(files: list[Path], read, embedder: Embedder, settings: LabSettings) -> tuple[float, float, int]:
    """Seconds to read, seconds to read, chunk and embed, and the number of chunks."""
    chunker = make_chunker("recursive", embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, None)
    started = time.perf_counter()
    documents = [document for file in files for document in read(file)]
    read_s = time.perf_counter() - started
    texts = [f"{d.title}\n{d.text[s.start : s.end]}" for d in documents for s in chunker.split(d.text)]
    embedder.embed_many(texts)
    return read_s, time.perf_counter() - started, len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="docs-demo,coverage-docs,pymdownx-docs")
    args = parser.parse_args()
    settings = LabSettings()
    embedder = load_embedder(settings, resolve_placement(settings))
    embedder.embed_many(["warm up"])
    print(f"{'corpus':<14} {'files':>5} {'read plain':>10} {'parse':>7} {'total plain':>11} {'total parsed':>12} "
          f"{'chunks':>13} {'parsed/plain':>12}")
    for corpus in args.corpora.split(","):
        files = find_files(list(EVALUATION_CORPORA[corpus].sources)).files
        plain_read, plain_total, plain_chunks = timed_ingest(files, plain, embedder, settings)
        parse, parsed_total, parsed_chunks = timed_ingest(files, load_documents, embedder, settings)
        print(f"{corpus:<14} {len(files):>5} {plain_read:>9.2f}s {parse:>6.2f}s {plain_total:>10.1f}s "
              f"{parsed_total:>11.1f}s {plain_chunks:>6}/{parsed_chunks:<6} {parsed_total / plain_total:>11.2f}x")


if __name__ == "__main__":
    main()
