"""Dense retrieval over chunk embeddings with FAISS: inner product on unit vectors (cosine).

`flat` is exact and right for most corpora; `hnsw` (graph) and `ivf` (clustered) trade a little
recall for speed on large ones. Vectors are keyed by chunk id, so the SQLite store and the index
always agree on what a hit is. With faiss's GPU build and a visible GPU, search runs on the GPU.
"""

import logging
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)


class DenseIndex:
    def __init__(self, index: faiss.Index, kind: str):
        self._index = index
        self.kind = kind
        self._gpu_index = None

    @classmethod
    def empty(cls, dimension: int, kind: str) -> "DenseIndex":
        if kind == "flat":
            inner = faiss.IndexFlatIP(dimension)
        elif kind == "hnsw":
            inner = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
        elif kind == "ivf":
            inner = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, 1, faiss.METRIC_INNER_PRODUCT)
        else:
            raise ValueError(f"No index kind {kind!r}; known: flat, hnsw, ivf")
        return cls(faiss.IndexIDMap2(inner), kind)

    @classmethod
    def load(cls, path: Path, kind: str) -> "DenseIndex":
        return cls(faiss.read_index(str(path)), kind)

    def save(self, path: Path) -> None:
        staging = path.with_suffix(".partial")
        faiss.write_index(self._index, str(staging))
        staging.replace(path)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> set[int]:
        return set(faiss.vector_to_array(self._index.id_map).tolist())

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexIVFFlat) and not inner.is_trained:
            self._train_ivf(vectors)
        self._index.add_with_ids(vectors, ids.astype(np.int64))
        self._gpu_index = None

    def remove(self, ids: list[int]) -> None:
        if not ids:
            return
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexHNSW | faiss.IndexIVF):
            # HNSW cannot delete nodes, and IVF under an id map would leave its positions out of step:
            # rebuild from the vectors that stay (retraining IVF on them).
            kept = self.vectors(sorted(self.ids() - set(ids)))
            fresh = DenseIndex.empty(self._index.d, self.kind)
            if kept:
                fresh.add(np.fromiter(kept, dtype=np.int64), np.stack(list(kept.values())))
            self._index = fresh._index
        else:
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))
        self._gpu_index = None

    def vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Stored vectors by chunk id, to score chunks found another way (a graph walk); unknown ids are left out."""
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexIVF) and inner.direct_map.no():
            inner.set_direct_map_type(faiss.DirectMap.Hashtable)  # unlike an array map, survives removals
        present = self.ids()
        return {i: self._index.reconstruct(i) for i in ids if i in present}

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and chunk ids, best first; -1 ids pad rows when fewer than k exist."""
        return self._searchable().search(np.atleast_2d(vectors).astype(np.float32), k)

    def _train_ivf(self, vectors: np.ndarray) -> None:
        """About 40 training points per list, as faiss recommends; at least one list."""
        dimension = vectors.shape[1]
        lists = max(1, min(4096, int(np.sqrt(len(vectors))), len(vectors) // 40))
        inner = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
        inner.train(vectors)
        inner.nprobe = max(1, lists // 8)
        self._index = faiss.IndexIDMap2(inner)

    def _searchable(self) -> faiss.Index:
        if self._gpu_index is None and hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0:
            self._gpu_index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, self._index)
            log.info("Dense index moved to GPU")
        return self._gpu_index or self._index
