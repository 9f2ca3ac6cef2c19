"""The strategy registry: built-ins listed here, plus strategies other packages install.

A literal list keeps the UI order fixed and runs nothing on import. Another package adds a
strategy by declaring an entry point in the group `raglab.strategies` that names its class; the
class follows the contract in `lab/context.py` (`name`, `description`, nested `Params`, `stages`,
`answer`), as the built-ins do.
"""

import logging
from importlib.metadata import entry_points
from typing import Any

from lab.context import Strategy
from lab.core import build_params
from strategies.agentic import AgenticRAG
from strategies.bm25 import BM25RAG
from strategies.crag import CorrectiveRAG
from strategies.fusion import RAGFusion
from strategies.graph import GraphRAG
from strategies.graph_global import GraphGlobalRAG
from strategies.hybrid import HybridRAG
from strategies.hyde import HyDE
from strategies.multi_agent import MultiAgentRAG
from strategies.no_retrieval import NoRetrieval
from strategies.rerank import RerankRAG
from strategies.rewrite import RewriteRetrieveRead
from strategies.self_rag import SelfRAG
from strategies.traditional import TraditionalRAG

log = logging.getLogger(__name__)

BUILT_IN: tuple[type, ...] = (
    NoRetrieval,
    TraditionalRAG,
    BM25RAG,
    HybridRAG,
    HyDE,
    RerankRAG,
    RewriteRetrieveRead,
    RAGFusion,
    GraphRAG,
    GraphGlobalRAG,
    AgenticRAG,
    MultiAgentRAG,
    CorrectiveRAG,
    SelfRAG,
)
ENTRY_POINT_GROUP = "raglab.strategies"


class UnknownStrategy(LookupError):
    pass


def available_strategies() -> dict[str, type]:
    """Built-ins first, then installed plugins; a plugin cannot shadow a built-in name."""
    found: dict[str, type] = {cls.name: cls for cls in BUILT_IN}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = entry.load()
        except Exception as error:  # a broken plugin must not take the lab down
            log.warning("Strategy plugin %s could not be loaded: %s", entry.value, error)
            continue
        missing = [part for part in ("name", "description", "Params", "answer") if not hasattr(cls, part)]
        if missing:
            log.warning("Strategy plugin %s lacks %s (see lab/context.py); ignored", entry.value, ", ".join(missing))
            continue
        if cls.name in found:
            log.warning("Strategy plugin %s reuses the name %r; ignored", entry.value, cls.name)
            continue
        found[cls.name] = cls
    return found


def get_strategy(name: str, **params: Any) -> Strategy:
    """The strategy called `name`, built with `params` (its defaults where left out).

    Raises UnknownStrategy listing the known names, or InvalidStrategyParams naming each bad
    parameter and its range.
    """
    known = available_strategies()
    if name not in known:
        raise UnknownStrategy(
            f"No strategy {name!r}; known: {', '.join(known)}. "
            f"Built-ins are listed in strategies/__init__.py; plugins register the entry point {ENTRY_POINT_GROUP!r}."
        )
    strategy = known[name]
    return strategy(build_params(strategy, params))


KV_VARIANT_MARK = "@"
CHUNKER_MARK = "/"
PROFILE_MARK = ":"


def split_kv_variant(name: str) -> tuple[str, str | None]:
    """`traditional@quantized-int4`: a strategy whose generator keeps its KV cache in that mode.

    An evaluation stores a variant under its full name, so cache modes are compared on answer quality
    and memory by the same reports, CIs and paired tests as strategies are.
    """
    from lab.llm import KV_MODES

    base, _, mode = name.partition(KV_VARIANT_MARK)
    if mode and mode not in KV_MODES:
        raise UnknownStrategy(f"No KV-cache mode {mode!r} in {name!r}; write STRATEGY@MODE with MODE one of {', '.join(KV_MODES)}.")
    return base, mode or None


def split_chunker(key: str) -> tuple[str | None, str]:
    """`fixed/traditional`: a strategy on the knowledge base the `fixed` chunker built (the chunking study)."""
    chunker, _, strategy = key.rpartition(CHUNKER_MARK)
    return chunker or None, strategy


def split_profile(name: str) -> tuple[str, str | None]:
    """`graph:my-kb`: a strategy answering with the configuration saved in profile `my-kb` (`eval.profiles`)."""
    base, _, profile = name.partition(PROFILE_MARK)
    return base, profile or None


def base_strategy_name(key: str) -> str:
    """The registry name inside a run's key, with any chunker, profile and KV-cache mode taken off."""
    return split_profile(split_kv_variant(split_chunker(key)[1])[0])[0]
