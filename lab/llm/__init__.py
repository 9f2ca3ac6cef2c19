"""The generator room: the generator protocol and its backends (llama-cpp, transformers, openai),
model loading, KV-cache accounting, prompts.

It imports `lab.core` only.
"""

from lab.llm.backend import Capabilities, Generator, GeneratorUnavailable
from lab.llm.loading import embedded_gguf, load_generator
from lab.llm.openai_backend import ServerCheck, check_server
from lab.llm.prompts import ANSWER_STOP, answer_prompt, closed_book_prompt

__all__ = [
    "ANSWER_STOP",
    "Capabilities",
    "Generator",
    "GeneratorUnavailable",
    "ServerCheck",
    "answer_prompt",
    "check_server",
    "closed_book_prompt",
    "embedded_gguf",
    "load_generator",
]
