"""Every FAISS index kind finds a stored vector by its chunk id, survives a save and load, and forgets removed ids."""

import numpy as np
import pytest

from lab.kb.dense_index import DenseIndex


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf"])
def test_each_index_kind_finds_the_nearest_chunk_by_id(kind, tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(400, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1000, 1400)
    index = DenseIndex.empty(32, kind)
    index.add(ids, vectors)
    index.save(tmp_path / "dense.faiss")
    reloaded = DenseIndex.load(tmp_path / "dense.faiss", kind)
    scores, found = reloaded.search(vectors[17], 1)
    assert found[0][0] == 1017 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    reloaded.remove([1017])
    assert 1017 not in reloaded.ids() and len(reloaded) == 399
    assert np.allclose(reloaded.vectors([1018])[1018], vectors[18], atol=1e-6)
