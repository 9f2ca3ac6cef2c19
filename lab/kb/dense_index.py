"""Dense retrieval over chunk embeddings with FAISS: inner product on unit vectors (cosine).

An ingest streams its vectors into an exact (flat) index; `fit` then gives the index its final
structure, built by FAISS's own `index_factory` and trained on the KB's vectors. `auto` keeps flat,
exact search below `AUTO_FLAT_LIMIT` chunks, where a brute-force scan is already fast. From there it
measures before it chooses: HNSW (a graph: no training, sub-millisecond, memory a little above flat) is
built on a sample of the KB's own vectors and kept only if it finds their exact neighbours
(`AUTO_MIN_RECALL`). Embeddings of real text have the neighbourhood structure a graph needs; vectors
without it (random ones, the worst case) defeat every graph and cluster index, and then `auto` takes
`sq8`, an exhaustive scan over 8-bit scalar-quantized vectors: exact up to quantization, a quarter of
flat's memory, and several times faster than a float scan because it reads a quarter of the bytes.
`ivf` is IVF-PQ, for corpora whose vectors no longer fit in memory: one byte per 8 dimensions, at some
cost in recall (IVF over exact vectors below `PQ_MIN_VECTORS`, too few to train PQ). Vectors are keyed
by chunk id, so the SQLite store and the index always agree on what a hit is. With faiss's GPU build
and a visible GPU, search runs on the GPU.
"""

import dataclasses
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from lab.core.settings import INDEX_KINDS

log = logging.getLogger(__name__)

AUTO_FLAT_LIMIT = 50_000
"""Chosen by hand between the sizes `bench/scale.py` measures: an exact scan of the demos' own embeddings answers
in 0.58 ms at p99 at 10k vectors and 8.3 ms at 100k, against the 50 ms target; not searched."""
AUTO_PROBE_VECTORS, AUTO_PROBE_QUERIES, AUTO_MIN_RECALL = 20_000, 200, 0.95
"""The minimum recall is the scale target (recall@10 >= 0.95, docs/scale.md), not tuned. Sample and query counts are chosen by
hand; `bench/scale.py` checks that the sample's verdict matches the full index at 1M vectors (near-real: sample
0.997, full 0.997, so hnsw; uniform: sample 0.673, full 0.040, so sq8)."""
SQ_TRAIN_POINTS = 100_000
"""Vectors the 8-bit quantizer's ranges are trained on; chosen by hand (ranges per dimension need few points)."""
HNSW_NEIGHBOURS, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128
"""Chosen by hand, not searched (M 32 is FAISS's usual default). Checked by `bench/scale.py` on 300 held-out
queries: recall@10 0.996-0.998 on real and near-real vectors from 10k to 1M."""
PQ_MIN_VECTORS = 10_000
"""Below this IVF keeps exact vectors: PQ's 256 centroids per sub-vector need many training points (FAISS's
guidance, not measured here)."""
TRAIN_POINTS_PER_LIST = 64
"""IVF training points per list, above FAISS's minimum of 39; chosen by hand."""


@dataclass(frozen=True)
class IndexPlan:
    """What `fit` builds: the kind, its FAISS factory string, the search parameters set on it, and why `auto`
    chose it (empty when the kind was asked for)."""

    kind: str
    factory: str
    params: dict[str, int] = field(default_factory=dict)
    why: str = ""


def plan_index(kind: str, vectors: int, dimension: int, sample: np.ndarray | None = None) -> IndexPlan:
    """The index a KB of `vectors` chunks gets for the requested `kind`. `auto` from `AUTO_FLAT_LIMIT` chunks
    needs a `sample` of the vectors (the rows `auto_sample_rows` picks), on which it measures a graph before choosing one."""
    if kind not in INDEX_KINDS:
        raise ValueError(f"No index kind {kind!r}; known: {', '.join(INDEX_KINDS)}")
    if kind == "auto":
        if vectors < AUTO_FLAT_LIMIT:
            return dataclasses.replace(plan_index("flat", vectors, dimension),
                                       why=f"auto: under {AUTO_FLAT_LIMIT:,} chunks an exact scan is fast")
        if sample is None:
            raise ValueError(f"auto at {vectors:,} vectors measures a sample of them: pass their auto_sample_rows")
        recall = hnsw_sample_recall(sample)
        if recall >= AUTO_MIN_RECALL:
            return dataclasses.replace(plan_index("hnsw", vectors, dimension),
                                       why=f"auto: HNSW found {recall:.3f} of the exact top 10 on a sample")
        return dataclasses.replace(
            plan_index("sq8", vectors, dimension),
            why=f"auto: HNSW found only {recall:.3f} of the exact top 10 on a sample (vectors without "
                "neighbourhood structure), so an exhaustive 8-bit scan")
    if kind == "flat":
        return IndexPlan("flat", "IDMap2,Flat")
    if kind == "sq8":
        return IndexPlan("sq8", "IDMap2,SQ8")
    if kind == "hnsw":
        return IndexPlan("hnsw", f"IDMap2,HNSW{HNSW_NEIGHBOURS},Flat",
                         {"M": HNSW_NEIGHBOURS, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH})
    lists = max(1, min(65_536, int(4 * np.sqrt(max(vectors, 1))), vectors // 39))  # FAISS: 39+ training points a list
    probes = {"nlist": lists, "nprobe": max(1, lists // 16)}
    codes = dimension // 8
    if vectors < PQ_MIN_VECTORS or dimension % 8:  # PQ's 256 centroids per sub-vector need many training points
        return IndexPlan("ivf", f"IDMap2,IVF{lists},Flat", probes)
    return IndexPlan("ivf", f"IDMap2,IVF{lists},PQ{codes}x8", {**probes, "m": codes})


def auto_sample_rows(count: int) -> np.ndarray:
    """The rows, of `count` vectors, that `auto` measures a graph on: a fixed random sample."""
    return np.sort(np.random.default_rng(0).choice(count, size=min(count, AUTO_PROBE_VECTORS), replace=False))


def hnsw_sample_recall(sample: np.ndarray) -> float:
    """Recall@10 of the HNSW `auto` would build, on held-out rows of `sample` as queries, against exact search."""
    queries, base = sample[:AUTO_PROBE_QUERIES], np.ascontiguousarray(sample[AUTO_PROBE_QUERIES:], dtype=np.float32)
    graph = faiss.index_factory(base.shape[1], f"HNSW{HNSW_NEIGHBOURS},Flat", faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efConstruction, graph.hnsw.efSearch = HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH
    graph.add(base)
    exact = faiss.IndexFlatIP(base.shape[1])
    exact.add(base)
    found, truth = graph.search(queries, 10)[1], exact.search(queries, 10)[1]
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)]))


class DenseIndex:
    def __init__(self, index: faiss.Index, plan: IndexPlan):
        self._index = index
        self.plan = plan
        self._gpu_index = None

    @property
    def kind(self) -> str:
        return self.plan.kind

    @classmethod
    def empty(cls, dimension: int) -> "DenseIndex":
        """The exact index an ingest streams into; `fit` restructures it at the end."""
        plan = plan_index("flat", 0, dimension)
        return cls(faiss.index_factory(dimension, plan.factory, faiss.METRIC_INNER_PRODUCT), plan)

    @classmethod
    def load(cls, path: Path, plan: IndexPlan | None) -> "DenseIndex":
        """`plan` as fitted; None for a KB saved before plans were recorded, whose plan is read off the index."""
        index = faiss.read_index(str(path))
        loaded = cls(index, plan or _plan_of(index))
        loaded._apply_search_params()
        return loaded

    def save(self, path: Path) -> None:
        staging = path.with_suffix(".partial")
        faiss.write_index(self._index, str(staging))
        staging.replace(path)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def memory_bytes(self) -> int:
        """The index's size as FAISS serializes it: its vectors or codes, graph links and id map, as held in memory."""
        return int(faiss.serialize_index(self._index).nbytes)

    def ids(self) -> set[int]:
        return set(faiss.vector_to_array(self._index.id_map).tolist())

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
        self._gpu_index = None

    def remove(self, ids: list[int]) -> None:
        if not ids:
            return
        if self.kind in ("flat", "sq8"):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))
        else:
            # HNSW cannot delete nodes, and IVF under an id map would leave its positions out of step:
            # rebuild from the vectors that stay.
            kept = sorted(self.ids() - set(ids))
            self._rebuild(self.plan, kept, self._all_vectors(kept))
        self._gpu_index = None

    def fit(self, kind: str) -> float:
        """Give the index the structure `kind` calls for at its present size; returns the build seconds (0 if
        it already has it). An approximate index keeps taking incremental adds until its kind changes, and
        `auto` keeps the large-corpus index it once measured and chose."""
        if len(self) == 0:
            return 0.0  # nothing to train on
        started = time.perf_counter()
        ids = sorted(self.ids())
        if kind == "auto" and len(self) >= AUTO_FLAT_LIMIT and self.kind in ("hnsw", "sq8"):
            plan = self.plan
        else:
            plan = plan_index(kind, len(self), self._index.d, sample=self._sample(ids) if kind == "auto" else None)
        if plan.factory == self.plan.factory:
            self.plan = plan
            return 0.0  # already built so (flat, HNSW and SQ8 take later adds as they come)
        self._rebuild(plan, ids, self._all_vectors(ids))
        built_s = time.perf_counter() - started
        log.info("Dense index rebuilt as %s (%s) over %d vectors in %.1f s", plan.kind, plan.factory, len(ids), built_s)
        return built_s

    def vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Stored vectors by chunk id, to score chunks found another way (a graph walk); unknown ids are left out.
        Under IVF-PQ these are the compressed approximations."""
        present = self.ids()
        wanted = [i for i in ids if i in present]
        return dict(zip(wanted, self._all_vectors(wanted))) if wanted else {}

    def _sample(self, ids: list[int]) -> np.ndarray | None:
        if len(ids) < AUTO_FLAT_LIMIT:
            return None
        return self._all_vectors([ids[row] for row in auto_sample_rows(len(ids))])

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and chunk ids, best first; -1 ids pad rows when fewer than k exist."""
        return self._searchable().search(np.atleast_2d(vectors).astype(np.float32), k)

    def _all_vectors(self, ids: list[int]) -> np.ndarray:
        """The vectors of `ids`, in that order: one bulk read when most are wanted, one by one when few are."""
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexIVF) and inner.direct_map.no():
            inner.set_direct_map_type(faiss.DirectMap.Hashtable)  # unlike an array map, survives removals
        if not ids:
            return np.zeros((0, self._index.d), dtype=np.float32)
        positions = {int(chunk): row for row, chunk in enumerate(faiss.vector_to_array(self._index.id_map))}
        rows = [positions[i] for i in ids]
        if len(rows) * 10 < inner.ntotal:
            return np.stack([inner.reconstruct(row) for row in rows])
        return inner.reconstruct_n(0, inner.ntotal)[rows]

    def _rebuild(self, plan: IndexPlan, ids: list[int], vectors: np.ndarray) -> None:
        index = faiss.index_factory(self._index.d, plan.factory, faiss.METRIC_INNER_PRODUCT)
        inner = faiss.downcast_index(index.index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efConstruction = plan.params["efConstruction"]
        if not index.is_trained:
            lists = plan.params.get("nlist")
            index.train(_training_sample(vectors, TRAIN_POINTS_PER_LIST * lists if lists else SQ_TRAIN_POINTS))
        if len(ids):
            index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        self._index, self.plan = index, plan
        self._apply_search_params()

    def _apply_search_params(self) -> None:
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = self.plan.params.get("efSearch", HNSW_EF_SEARCH)
        elif isinstance(inner, faiss.IndexIVF):
            inner.nprobe = self.plan.params.get("nprobe", 1)

    def _searchable(self) -> faiss.Index:
        if self._gpu_index is None and hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0:
            try:
                self._gpu_index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, self._index)
                log.info("Dense index moved to GPU")
            except RuntimeError as error:  # FAISS has no GPU form of every CPU index
                self._gpu_index = self._index
                log.info("Dense index %s stays on the CPU: %s", self.plan.factory, error)
        return self._gpu_index or self._index


def _training_sample(vectors: np.ndarray, wanted: int) -> np.ndarray:
    """A fixed random sample to train on. IVF's k-means takes `TRAIN_POINTS_PER_LIST` points a list (FAISS
    advises 30 to 256): training on a million vectors would take many minutes and gain nothing measurable.
    The scalar quantizer learns each dimension's range, which a sample of `SQ_TRAIN_POINTS` already spans."""
    if len(vectors) <= wanted:
        return vectors
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), size=wanted, replace=False))
    return vectors[rows]


def _plan_of(index: faiss.Index) -> IndexPlan:
    """The plan an index was built to, read off its structure."""
    inner = faiss.downcast_index(index.index)
    if isinstance(inner, faiss.IndexHNSW):
        return plan_index("hnsw", index.ntotal, index.d)
    if isinstance(inner, faiss.IndexIVF):
        storage = f"PQ{inner.pq.M}x8" if isinstance(inner, faiss.IndexIVFPQ) else "Flat"
        return IndexPlan("ivf", f"IDMap2,IVF{inner.nlist},{storage}", {"nlist": inner.nlist, "nprobe": inner.nprobe})
    if isinstance(inner, faiss.IndexScalarQuantizer):
        return plan_index("sq8", index.ntotal, index.d)
    return plan_index("flat", index.ntotal, index.d)
