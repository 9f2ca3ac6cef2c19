"""Embedding throughput of `ingest` against a raw sentence-transformers encode of the same chunks.

Both run in this one process on the same texts, alternating, so the ratio is fair on a noisy machine.
Target: ingest throughput / raw throughput >= 0.9.

    .venv/bin/python bench/ingest.py [--repeats 3]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import lab  # noqa: F401
from lab.core import LabSettings, resolve_placement
from lab.ingestion import DEMO_FILE
from lab.kb import KnowledgeBase, embedding_text, load_embedder, make_chunker


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--file", type=Path, default=DEMO_FILE)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="raglab-bench-"))
    settings = LabSettings(home=home)
    embedder = load_embedder(settings, resolve_placement(settings))
    chunker = make_chunker(settings.chunker, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, None)
    embedder.embed_many(["warm up"] * 64)

    ingest_rates, raw_rates, walls = [], [], []
    for repeat in range(args.repeats):
        kb = KnowledgeBase.open(home, f"bench{repeat}", create=True)
        started = time.perf_counter()
        report = kb.ingest([args.file], embedder, chunker)
        walls.append(time.perf_counter() - started)
        ingest_rates.append(report.chunks_added / report.embed_seconds)
        ids, _ = kb.store.all_chunk_ids_and_texts()
        chunks = kb.store.chunks(ids)
        texts = [embedding_text(chunks[i].title, chunks[i].text, chunks[i].section) for i in ids]
        started = time.perf_counter()
        embedder.model.encode(texts, batch_size=settings.embed_batch_size, normalize_embeddings=True)
        raw_rates.append(len(texts) / (time.perf_counter() - started))
        kb.close()

    ingest_rate, raw_rate = statistics.median(ingest_rates), statistics.median(raw_rates)
    print(f"corpus: {args.file.name}, {report.chunks_added} chunks, device {embedder.model.device}")
    print(f"ingest embedding throughput : {ingest_rate:8.1f} chunks/s (median of {args.repeats})")
    print(f"raw encode throughput       : {raw_rate:8.1f} chunks/s")
    print(f"ratio ingest/raw            : {ingest_rate / raw_rate:8.3f}   (target >= 0.9)")
    print(f"whole ingest wall time      : {statistics.median(walls):8.2f} s (read, chunk, embed, index)")


if __name__ == "__main__":
    main()
