"""Every FAISS index kind finds a stored vector by its chunk id, survives a save and load, and forgets removed
ids; `auto` is exact below its size limit and, above it, HNSW where a graph finds the neighbours of a sample
and an exhaustive 8-bit scan where it does not; the structure is FAISS's own factory's."""

import numpy as np
import pytest

from lab.kb.dense_index import AUTO_FLAT_LIMIT, AUTO_PROBE_VECTORS, DenseIndex, plan_index


def unit_vectors(count: int, dimension: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def low_dimensional_vectors(count: int, dimension: int, seed: int = 0) -> np.ndarray:
    """Unit vectors on an 8-dimensional subspace: neighbourhood structure, as embeddings of real text have."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, 8)) @ rng.normal(size=(8, dimension))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf", "sq8", "auto"])
def test_each_index_kind_finds_the_nearest_chunk_by_id(kind, tmp_path):
    vectors = unit_vectors(400, 32)
    index = DenseIndex.empty(32)
    index.add(np.arange(1000, 1400), vectors)
    index.fit(kind)
    index.save(tmp_path / "dense.faiss")
    reloaded = DenseIndex.load(tmp_path / "dense.faiss", index.plan)
    scores, found = reloaded.search(vectors[17], 1)
    quantized = kind == "sq8"
    assert found[0][0] == 1017 and scores[0][0] == pytest.approx(1.0, abs=1e-2 if quantized else 1e-5)
    reloaded.remove([1017])
    assert 1017 not in reloaded.ids() and len(reloaded) == 399
    assert np.allclose(reloaded.vectors([1018])[1018], vectors[18], atol=1e-2 if quantized else 1e-6)
    assert reloaded.kind == ("flat" if kind == "auto" else kind)


def test_auto_is_exact_below_its_limit_then_hnsw_where_a_graph_finds_the_neighbours_of_a_sample():
    assert plan_index("auto", AUTO_FLAT_LIMIT - 1, 384).factory == "IDMap2,Flat"
    hnsw = plan_index("auto", AUTO_FLAT_LIMIT, 384, sample=low_dimensional_vectors(AUTO_PROBE_VECTORS, 384))
    assert hnsw.kind == "hnsw" and hnsw.factory == "IDMap2,HNSW32,Flat" and hnsw.params["efSearch"] >= 64
    assert "found 1.000 of the exact top 10" in hnsw.why
    with pytest.raises(ValueError, match="sample"):
        plan_index("auto", AUTO_FLAT_LIMIT, 384)


def test_auto_scans_every_vector_when_a_graph_misses_the_neighbours_of_random_ones():
    plan = plan_index("auto", 1_000_000, 384, sample=unit_vectors(AUTO_PROBE_VECTORS, 384))
    assert plan.kind == "sq8" and plan.factory == "IDMap2,SQ8" and "without neighbourhood structure" in plan.why


def test_the_other_kinds_have_their_factory_strings_and_unknown_ones_are_named():
    assert plan_index("ivf", 1_000_000, 384).factory == "IDMap2,IVF4000,PQ48x8"
    assert plan_index("ivf", 5_000, 384).factory.endswith(",Flat")
    with pytest.raises(ValueError, match="auto, flat, hnsw, ivf, sq8"):
        plan_index("annoy", 10, 384)


def test_fitting_an_index_that_already_has_its_structure_builds_nothing_and_later_adds_are_found():
    vectors = unit_vectors(600, 32, seed=1)
    index = DenseIndex.empty(32)
    index.add(np.arange(500), vectors[:500])
    assert index.fit("hnsw") > 0 and index.kind == "hnsw"
    index.add(np.arange(500, 600), vectors[500:])
    assert index.fit("hnsw") == 0.0
    _, found = index.search(vectors[550], 1)
    assert found[0][0] == 550 and len(index) == 600


@pytest.mark.parametrize("kind", ["flat", "hnsw", "ivf", "sq8"])
def test_an_index_saved_without_a_recorded_plan_is_read_as_what_it_is(kind, tmp_path):
    index = DenseIndex.empty(32)
    index.add(np.arange(400), unit_vectors(400, 32, seed=2))
    index.fit(kind)
    index.save(tmp_path / "dense.faiss")
    assert DenseIndex.load(tmp_path / "dense.faiss", None).plan.factory == index.plan.factory


@pytest.mark.parametrize("kind", ["hnsw", "ivf", "sq8", "auto"])
def test_an_empty_index_stays_empty_and_exact_whatever_kind_is_asked(kind):
    index = DenseIndex.empty(32)
    assert index.fit(kind) == 0.0 and index.kind == "flat" and len(index) == 0


def test_auto_measures_once_when_a_kb_outgrows_exact_search_and_keeps_its_choice_as_it_grows():
    vectors = low_dimensional_vectors(AUTO_FLAT_LIMIT + 1_000, 32, seed=3)
    index = DenseIndex.empty(32)
    index.add(np.arange(AUTO_FLAT_LIMIT), vectors[:AUTO_FLAT_LIMIT])
    assert index.fit("auto") > 0 and index.kind == "hnsw" and index.plan.why.startswith("auto: HNSW found")
    index.add(np.arange(AUTO_FLAT_LIMIT, len(vectors)), vectors[AUTO_FLAT_LIMIT:])
    assert index.fit("auto") == 0.0 and index.kind == "hnsw"
    _, found = index.search(vectors[-1], 1)
    assert found[0][0] == len(vectors) - 1
