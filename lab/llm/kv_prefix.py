"""Prefix reuse: how much of a strategy's prompting repeats a prefix the cache already holds, and what reusing it saves.

A strategy's calls on one question share text: every candidate of a scoring call follows the same
prompt, and successive calls often open with the same instructions and passages. A cache that keeps
what it computed (llama.cpp's prompt cache, vLLM's prefix caching) skips those tokens. The replay
here measures the saving on the real model: each recorded prompt is read once from scratch and once
from a copy of the cache of the earlier prompt it shares the longest prefix with.

torch and transformers are imported by the replay, which runs on a model already loaded, so importing
the room, as every web page does, costs neither.
"""

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lab.core.tracing import Generation, Scores
from lab.llm.backend import Generator, shared_prefix_length
from lab.llm.transformers_backend import TransformersGenerator

if TYPE_CHECKING:
    from transformers.cache_utils import DynamicCache


@dataclass(frozen=True)
class RecordedCall:
    kind: str
    prompt: str
    continuations: int = 0


@dataclass(eq=False)
class RecordingGenerator:
    """A generator that keeps every prompt it is given, so a strategy's calls can be replayed.

    Compared by identity, as the generator it wraps is: decisions cache per generator.
    """

    inner: Generator
    calls: list[RecordedCall] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def generate(self, prompt: str, stop: Sequence[str] = ("\n",), max_new_tokens: int | None = None) -> Generation:
        self.calls.append(RecordedCall("generate", prompt))
        return self.inner.generate(prompt, stop, max_new_tokens)

    def score(self, prompt: str, continuations: Sequence[str]) -> Scores:
        self.calls.append(RecordedCall("score", prompt, len(continuations)))
        return self.inner.score(prompt, continuations)


@dataclass(frozen=True)
class PrefixReuse:
    calls: int
    prompt_tokens: int
    shared_tokens: int
    cold_ms: float
    warm_ms: float

    @property
    def share(self) -> float:
        return self.shared_tokens / self.prompt_tokens if self.prompt_tokens else 0.0


def replay_with_prefix_reuse(generator: TransformersGenerator, calls: Sequence[RecordedCall]) -> PrefixReuse:
    """Prompt tokens a strategy's calls send, those a prefix cache already holds, and prefill time without and with it.

    A scoring call with k continuations sends its prompt k times to a backend that does not share it,
    so k - 1 copies count as shared; the replay times the prompt itself once per call.
    """
    import torch
    from transformers.cache_utils import DynamicCache

    with torch.inference_mode():
        seen: list[tuple[list[int], DynamicCache]] = []
        prompt_tokens = shared_tokens = 0
        cold_ms = warm_ms = 0.0
        for call in calls:
            ids = generator.tokenizer(call.prompt).input_ids
            copies = max(call.continuations, 1)
            prompt_tokens += len(ids) * copies
            shared_tokens += len(ids) * (copies - 1)
            started = time.perf_counter()
            fresh = DynamicCache()
            _prefill(generator, ids, fresh)
            cold = (time.perf_counter() - started) * 1000
            prefix, source_tokens, source = max(((shared_prefix_length(ids, old), len(old), cache) for old, cache in seen),
                                                key=lambda found: found[0], default=(0, 0, None))
            prefix = min(prefix, len(ids) - 1)
            if prefix > 0:
                started = time.perf_counter()
                reused = copy.deepcopy(source)
                if source_tokens > prefix:
                    reused.crop(prefix - source_tokens)
                _prefill(generator, ids[prefix:], reused)
                warm = (time.perf_counter() - started) * 1000
                shared_tokens += prefix
            else:
                warm = cold
            cold_ms += cold
            warm_ms += warm
            seen.append((ids, fresh))
        return PrefixReuse(len(calls), prompt_tokens, shared_tokens, cold_ms, warm_ms)


def _prefill(generator: TransformersGenerator, ids: list[int], cache: "DynamicCache") -> None:
    import torch

    generator.model(input_ids=torch.tensor([ids], device=generator.device), past_key_values=cache, use_cache=True,
                    logits_to_keep=1)
    if generator.device.startswith("cuda"):
        torch.cuda.synchronize()
