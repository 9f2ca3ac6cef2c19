"""The generator room: the generator protocol and its backends (llama-cpp, transformers, openai),
model loading, prompts, and the KV cache: accounting, cache modes, the KV-lab experiments, theory.

It imports `lab.core` only.
"""

from lab.llm.backend import Capabilities, Generator, GeneratorUnavailable
from lab.llm.kv_experiments import KVRow, cache_modes, cache_on_off, memory_by_context, prompt_of_length
from lab.llm.kv_modes import DYNAMIC, KV_MODES
from lab.llm.kv_prefix import RecordingGenerator, replay_with_prefix_reuse
from lab.llm.kv_theory import model_shapes, seed_claim_check
from lab.llm.loading import ServerCheck, check_server, embedded_gguf, file_sha256, load_generator, served_models
from lab.llm.prompts import ANSWER_STOP, REWRITE_EXAMPLES, answer_prompt, closed_book_prompt, rewrite_prompt
from lab.llm.transformers_backend import TransformersGenerator

__all__ = [
    "ANSWER_STOP",
    "DYNAMIC",
    "KV_MODES",
    "REWRITE_EXAMPLES",
    "Capabilities",
    "Generator",
    "GeneratorUnavailable",
    "KVRow",
    "RecordingGenerator",
    "ServerCheck",
    "TransformersGenerator",
    "answer_prompt",
    "cache_modes",
    "cache_on_off",
    "check_server",
    "closed_book_prompt",
    "embedded_gguf",
    "file_sha256",
    "load_generator",
    "memory_by_context",
    "model_shapes",
    "prompt_of_length",
    "replay_with_prefix_reuse",
    "rewrite_prompt",
    "seed_claim_check",
    "served_models",
]
