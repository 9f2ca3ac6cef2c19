"""Keyword retrieval with BM25 (`bm25s`), keyed by chunk id like the dense index.

bm25s has no incremental add, so the index is rebuilt from the stored chunk texts after each
ingest; that takes well under a second per ten thousand chunks. bm25s (and scipy under it, a few tenths
of a second) is imported where an index is built, loaded or searched, not with the room.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import bm25s


class KeywordIndex:
    def __init__(self, retriever: "bm25s.BM25 | None", ids: list[int]):
        self._retriever = retriever
        self._ids = ids

    @classmethod
    def build(cls, ids: list[int], texts: list[str]) -> "KeywordIndex":
        if not texts:
            return cls(None, [])
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        return cls(retriever, list(ids))

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        import bm25s

        ids = json.loads((folder / "chunk_ids.json").read_text())
        return cls(bm25s.BM25.load(str(folder)) if ids else None, ids)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._retriever is not None:
            self._retriever.save(str(folder))
        (folder / "chunk_ids.json").write_text(json.dumps(self._ids))

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score) best first; chunks sharing no term with the query are left out."""
        if self._retriever is None:
            return []
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)
        if not tokens[0]:
            return []
        rows, scores = self._retriever.retrieve(tokens, k=min(k, len(self._ids)), show_progress=False)
        return [(self._ids[int(r)], float(s)) for r, s in zip(rows[0], scores[0]) if s > 0]
