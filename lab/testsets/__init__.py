"""Test sets generated from a knowledge base: questions, references and evidence spans drafted from its own
passages, kept only when they pass the checks in `filters`, in the QA format `raglab eval --qa` reads.

It imports `lab.steps` (the read step and its candidate rules), `lab.context` and the rooms below them.
"""

from lab.testsets.building import (
    DEFAULT_MIX, MixError, GeneratedSet, GenerationRequest, build_testset, parse_mix, testset_path, write_testset,
)
from lab.testsets.drafting import KINDS
from lab.testsets.filters import REASONS
from lab.testsets.review import Verdict, generated_from, read_records, reviewed, saved_testsets, write_records

__all__ = [
    "DEFAULT_MIX", "KINDS", "REASONS", "MixError", "GeneratedSet", "GenerationRequest", "build_testset", "parse_mix",
    "Verdict", "generated_from", "read_records", "reviewed", "saved_testsets", "testset_path", "write_records", "write_testset",
]
