"""The knowledge base: loaders, chunkers, the chunk store, dense (FAISS) and keyword (BM25) indexes, the
embedder, uploads and the `KnowledgeBase` facade.

It imports `lab.core` and, for the llm chunker only, the generator type from `lab.llm`.
"""

from lab.kb.chunking import CHUNKER_NAMES, make_chunker
from lab.kb.embedding import Embedder, load_embedder
from lab.kb.ingest_records import IngestReport, embedding_text
from lab.kb.chunk_store import StoredChunk
from lab.kb.knowledge_base import KnowledgeBase, KnowledgeBaseError, knowledge_base_names
from lab.kb.loaders import SUPPORTED_SUFFIXES, UnreadableFile, find_files, load_documents
from lab.kb.uploads import UploadRejected, save_upload

__all__ = [
    "CHUNKER_NAMES",
    "Embedder",
    "IngestReport",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "SUPPORTED_SUFFIXES",
    "StoredChunk",
    "UnreadableFile",
    "UploadRejected",
    "embedding_text",
    "find_files",
    "knowledge_base_names",
    "load_documents",
    "load_embedder",
    "make_chunker",
    "save_upload",
]
