"""The ground floor: records that cross rooms, settings, tracing, placement and text spans.

Every room imports from here; nothing here imports from a room above.
"""

from lab.core.contracts import Answer, Passage, Retrieval
from lab.core.locks import exclusive
from lab.core.parameters import BUDGET, build_params, describe_strategy
from lab.core.placement import ModelLoadError, Placement, resolve_placement, usable_cores
from lab.core.settings import EMBEDDED_EMBEDDER, EMBEDDED_GENERATOR, INDEX_KINDS, LabSettings, save_settings
from lab.core.templates import DEFAULT_ANSWER_TEMPLATE, DEFAULT_CLOSED_BOOK_TEMPLATE
from lab.core.tracing import Generation, LLMCall, Scores, ScoringCall, Stage, Trace

__all__ = [
    "BUDGET", "Answer", "Passage", "Retrieval", "build_params", "describe_strategy", "ModelLoadError", "Placement",
    "resolve_placement", "usable_cores", "EMBEDDED_EMBEDDER", "EMBEDDED_GENERATOR", "INDEX_KINDS", "LabSettings", "save_settings",
    "DEFAULT_ANSWER_TEMPLATE", "DEFAULT_CLOSED_BOOK_TEMPLATE", "Generation", "LLMCall", "Scores", "ScoringCall", "Stage", "Trace",
    "exclusive",
]
