"""The generator protocol: what every backend does for a strategy, and what it declares it can do.

Strategies complete a prompt up to stop strings, score candidate continuations, and count tokens;
they never ask which backend they hold. What differs between backends is data, not type checks:
`Capabilities` says whether a backend reads log-likelihoods (`can_score`), whether it only speaks
chat (`chat_only`), whether its KV-cache bytes are measured on a live cache (`measures_kv`),
whether it serves several requests at once, so an evaluation may overlap items (`concurrent`), and
whether it runs a base model in process, which reads evidence better by ranking candidate answers than
by writing one (`base_model`, what `answer_mode = "auto"` goes by).

A backend that cannot score still answers `score`: with two or more continuations it makes a
constrained choice among them (the server's structured output where it has one, parsed text as the
last resort) and returns 0 for the chosen one and `-CHOICE_GAP` for the rest, a lead no decision
margin doubts. `Scores.path` says which way the numbers were made, and the trace keeps it per call
(`Trace.record_scores`).
"""

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from lab.core.tracing import Generation, Scores

CHOICE_GAP = 20.0
"""Chosen by hand, above any decision margin a strategy allows (at most 10 nats), so a constrained choice always
decides; not measured."""


class GeneratorUnavailable(RuntimeError):
    """The generator could not be reached or refused the request after its retries; worth retrying later."""


@dataclass(frozen=True)
class Capabilities:
    can_score: bool
    chat_only: bool
    measures_kv: bool
    concurrent: bool = False
    base_model: bool = False

    def to_dict(self) -> dict[str, bool]:
        return asdict(self)


INSTRUCTION_TUNED_NAME = re.compile(r"instruct|chat|(?<![a-z])it(?![a-z])", re.IGNORECASE)
"""How instruction-tuned checkpoints are named (Llama-3-8B-Instruct, gemma-3-1b-it, Qwen2.5-7B-Chat)."""


def named_as_base_model(model_id: str) -> bool:
    """A weak signal, from the name alone; a user whose model is misnamed sets `answer_mode` instead of auto."""
    return not INSTRUCTION_TUNED_NAME.search(model_id.rsplit("/", 1)[-1])


def choice_scores(options: int, chosen: int | None, path: str, prompt_tokens: int = 0, ms: float = 0.0) -> Scores:
    """Scores for a constrained choice: the chosen option leads every other by `CHOICE_GAP` nats.

    With no choice made (the server's text named no option) every option scores alike, so a caller's
    fallback rule decides, as it does when a scoring model is undecided.
    """
    values = [0.0 if chosen in (None, i) else -CHOICE_GAP for i in range(options)]
    return Scores(values, path, prompt_tokens, ms)


class Generator(Protocol):
    """What strategies, the agent, the chunker and the judge may call on a generator."""

    backend: str
    model_id: str
    device: str
    max_new_tokens: int
    capabilities: Capabilities

    def generate(self, prompt: str, stop: Sequence[str] = ("\n",), max_new_tokens: int | None = None) -> Generation:
        """Greedy completion of `prompt`, cut before the first stop string."""
        ...

    def score(self, prompt: str, continuations: Sequence[str]) -> Scores:
        """Summed log-likelihood of each continuation after `prompt` (or a constrained choice, see above)."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def describe(self) -> dict[str, Any]:
        """Backend, model, URL (never a key) and capabilities, for traces, runs and reports."""
        ...


def shared_prefix_length(first: Sequence[int], second: Sequence[int]) -> int:
    """How many leading tokens two prompts share: what a cache holding the first can reuse for the second."""
    length = 0
    for a, b in zip(first, second):
        if a != b:
            break
        length += 1
    return length
