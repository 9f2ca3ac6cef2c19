"""The lab at corpus scale: ingest throughput and peak memory at 100k chunks, and every dense index kind at
10k, 100k and 1M vectors, measured side by side in one run.

1. Synthetic chunks: sentences of both bundled demos, shuffled and recombined (3–5 a chunk), written as
   JSONL files of 1,000 documents each and ingested by a real `raglab ingest` subprocess, whose peak RSS
   (VmHWM) and wall time are read. Its FAISS index gives the real embeddings for step 2.
2. For each size and each index kind (flat, hnsw, ivf, sq8, and which of them auto picks: flat below 50k,
   then HNSW where a graph finds a 20k sample's exact neighbours, sq8 where it does not), the index is built with the
   lab's own `DenseIndex` (FAISS `index_factory`), then: build seconds, bytes on disk, bytes in memory (the
   serialized index), query latency p50/p99 for single queries, and recall@10 against exact search.
   10k and 100k are the real embeddings; 1M adds vectors. Two kinds of 1M vectors are measured:
   `uniform` (random unit vectors, the issue's set: no structure, the worst case for any ANN index)
   and `near-real` (each real embedding with nine noisy copies, renormalized: the structure real corpora have).
   Queries are held-out vectors of the same kind (perturbed real embeddings, or fresh uniform ones).

Targets: peak RSS ingesting 100k chunks < 3 GB; at 1M with the auto index on CPU, query p99 < 50 ms
and recall@10 >= 0.95.

    .venv/bin/python bench/scale.py [--chunks 100000] [--sizes 10000,100000,1000000] [--queries 300] [--keep DIR] [--vectors F]
"""

import argparse
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

import lab  # noqa: F401
from lab.ingestion import BUNDLED_DEMOS
from lab.kb import load_documents
from lab.kb.dense_index import DenseIndex, auto_sample_rows, plan_index

REPO = Path(__file__).resolve().parent.parent
GIB = 2**30


def demo_sentences() -> list[str]:
    sentences = []
    for demo in BUNDLED_DEMOS.values():
        for source in demo.sources:
            for path in sorted(source.rglob("*")) if source.is_dir() else [source]:
                if path.is_file():
                    for document in load_documents(path):
                        sentences += [s for s in re.split(r"(?<=[.!?])\s+", document.text) if 30 <= len(s) <= 400]
    return sentences


def write_synthetic_corpus(folder: Path, chunks: int, seed: int = 0) -> None:
    """`chunks` short documents (one chunk each under the default chunker), 1,000 to a JSONL file."""
    rng = random.Random(seed)
    sentences = demo_sentences()
    folder.mkdir(parents=True)
    for start in range(0, chunks, 1000):
        lines = []
        for number in range(start, min(start + 1000, chunks)):
            text = " ".join(rng.sample(sentences, rng.randint(3, 5)))
            lines.append(json.dumps({"title": f"Synthetic {number}", "text": text}))
        (folder / f"part-{start // 1000:04d}.jsonl").write_text("\n".join(lines) + "\n")


def ingest_measured(home: Path, corpus: Path) -> dict[str, float]:
    """Run `raglab ingest` as its own process; its wall time and peak RSS (the kernel's high-water mark).
    Its output goes to files, not pipes: an undrained pipe fills with progress lines and stalls the ingest."""
    started = time.perf_counter()
    out_file, err_file = home.parent / "ingest.out", home.parent / "ingest.err"
    with out_file.open("w") as out, err_file.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "ingest", str(corpus), "--kb", "scale"],
            env={**os.environ, "RAGLAB_HOME": str(home)}, cwd=REPO, stdout=out, stderr=err,
        )
        peak_kib = _wait_measuring(process)
    wall = time.perf_counter() - started
    if process.returncode:
        raise SystemExit(f"ingest failed: {err_file.read_text()[-2000:]}")
    print(out_file.read_text().strip().splitlines()[-1], flush=True)
    return {"wall_s": wall, "peak_rss_gib": peak_kib * 1024 / GIB}


def _wait_measuring(process: subprocess.Popen) -> int:
    """Wait for `process`, reading its peak resident set (KiB) from /proc as it runs."""
    peak_kib = 0
    while process.poll() is None:
        try:
            status = Path(f"/proc/{process.pid}/status").read_text()
            peak_kib = max(peak_kib, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))
        except (OSError, AttributeError):
            pass
        time.sleep(0.5)
    return peak_kib


def stored_vectors(dense_file: Path) -> np.ndarray:
    index = faiss.read_index(str(dense_file))
    return faiss.downcast_index(index.index).reconstruct_n(0, index.ntotal)


def unit(matrix: np.ndarray) -> np.ndarray:
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def near_real(real: np.ndarray, count: int, rng: np.random.Generator, noise: float = 0.35) -> np.ndarray:
    """`count` vectors, each a real embedding plus Gaussian noise (per-dimension sd noise/sqrt(d)), renormalized."""
    picks = rng.integers(0, len(real), size=count)
    out = np.empty((count, real.shape[1]), dtype=np.float32)
    for start in range(0, count, 100_000):
        rows = picks[start:start + 100_000]
        jitter = rng.normal(scale=noise / np.sqrt(real.shape[1]), size=(len(rows), real.shape[1]))
        out[start:start + len(rows)] = unit(real[rows] + jitter)
    return out


def measure_index(kind: str, base: np.ndarray, queries: np.ndarray, truth: np.ndarray) -> dict[str, object]:
    index = DenseIndex.empty(base.shape[1])
    started = time.perf_counter()
    index.add(np.arange(len(base)), base)
    index.fit(kind)
    build_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        index.save(Path(folder) / "dense.faiss")
        disk = (Path(folder) / "dense.faiss").stat().st_size
    memory = index.memory_bytes()
    index.search(queries[:5], 10)
    latencies, found = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = index.search(query, 10)
        latencies.append((time.perf_counter() - started) * 1000)
        found.append(ids[0])
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
    return {"kind": index.kind, "factory": index.plan.factory, "build_s": build_s, "disk_mib": disk / 2**20,
            "memory_mib": memory / 2**20, "p50_ms": float(np.percentile(latencies, 50)),
            "p99_ms": float(np.percentile(latencies, 99)), "recall_at_10": float(recall)}


def exact_top10(base: np.ndarray, queries: np.ndarray) -> np.ndarray:
    exact = faiss.IndexFlatIP(base.shape[1])
    exact.add(base)
    return exact.search(queries, 10)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--vectors", type=Path, default=None,
                        help="a dense.faiss from an earlier run's KB: skip the ingest and measure the indexes on its vectors")
    parser.add_argument("--keep", type=Path, default=None,
                        help="ingest into this new folder and keep it, so --vectors FOLDER/home/kbs/scale/dense.faiss can rerun the indexes")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    if args.vectors:
        real = stored_vectors(args.vectors)
    else:
        with tempfile.TemporaryDirectory(prefix="raglab-scale-") as scratch:
            scratch = args.keep or Path(scratch)
            write_synthetic_corpus(scratch / "corpus", args.chunks)
            ingest = ingest_measured(scratch / "home", scratch / "corpus")
            real = stored_vectors(scratch / "home" / "kbs" / "scale" / "dense.faiss")
        print(f"\ningest: {len(real):,} chunks in {ingest['wall_s']:.0f} s ({len(real) / ingest['wall_s']:.0f} chunks/s, "
              f"whole command incl. model load and entity graph); peak RSS {ingest['peak_rss_gib']:.2f} GiB "
              f"(target < 3 GB: {'met' if ingest['peak_rss_gib'] * GIB < 3e9 else 'MISSED'})\n", flush=True)

    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        sets = {"real": real[:size]} if size <= len(real) else {
            "near-real": np.vstack([real, near_real(real, size - len(real), rng)]),
            "uniform": unit(rng.normal(size=(size, real.shape[1]))),
        }
        for name, base in sets.items():
            queries = near_real(real, args.queries, rng) if name != "uniform" else unit(
                rng.normal(size=(args.queries, real.shape[1])))
            truth = exact_top10(base, queries)
            auto = plan_index("auto", size, real.shape[1], sample=base[auto_sample_rows(len(base))])
            print(f"{size:,} {name}: {auto.why}", flush=True)
            for kind in ["flat", "hnsw", "ivf", "sq8"]:
                row = {"vectors": size, "set": name, **measure_index(kind, base, queries, truth)}
                row["auto"] = kind == auto.kind
                rows.append(row)
                print(json.dumps(row), flush=True)
            del base
    print("\n| Vectors | Set | Index (FAISS factory) | auto picks | Build s | Disk MiB | Memory MiB | p50 ms | p99 ms | Recall@10 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['vectors']:,} | {r['set']} | {r['kind']} (`{r['factory']}`) | {'yes' if r['auto'] else ''} | "
              f"{r['build_s']:.1f} | {r['disk_mib']:.0f} | {r['memory_mib']:.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
              f"{r['recall_at_10']:.3f} |")
    buffer = io.StringIO()
    for r in rows:
        if r["auto"] and r["vectors"] >= 1_000_000:
            met = r["p99_ms"] < 50 and r["recall_at_10"] >= 0.95
            buffer.write(f"1M {r['set']}, auto ({r['kind']}): p99 {r['p99_ms']:.1f} ms, recall@10 {r['recall_at_10']:.3f}: "
                         f"{'target met' if met else 'target MISSED'}\n")
    print("\n" + buffer.getvalue())


if __name__ == "__main__":
    main()
