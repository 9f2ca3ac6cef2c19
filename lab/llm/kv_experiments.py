"""The KV-cache experiments the lab runs for `raglab kv` and the KV cache page, on a real model.

Each experiment decodes greedily with its own loop over `model(...)`, so the time of every token and
the cache object after it are in hand: the loop is what `generate` does, without the sampling options
that would blur the timing. Every row carries the bytes measured on the live cache beside the bytes
`lab.llm.kv_cache` predicts for the same mode, tokens and model.
"""

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from lab.llm.backend import Generator
from lab.llm.kv_cache import measured_kv_bytes, theoretical_kv_bytes
from lab.llm.kv_modes import DYNAMIC, KV_MODES, new_cache
from lab.llm.transformers_backend import TransformersGenerator

Progress = Callable[[float, str], None]
FILLER = (
    "The lamp's base holds the battery. The dimmer ring turns clockwise to brighten the light. "
    "The ferry to the island leaves the harbour at seven and returns at noon. "
)


@dataclass(frozen=True)
class KVRow:
    """One measurement; `agreement` is the share of the first new tokens equal to the dynamic cache's."""

    experiment: str
    mode: str
    context_tokens: int
    new_tokens: int
    kv_bytes_measured: int | None
    kv_bytes_theory: int | None
    ms: float | None
    tokens_per_s: float | None
    agreement: float | None = None
    answer_agreement: float | None = None
    label: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Decoding:
    token_ids: list[int]
    step_ms: list[float]
    step_kv_bytes: list[int]
    cache: Any


def decode(generator: TransformersGenerator, prompt_ids: list[int], steps: int, cache: Any | None) -> Decoding:
    """`steps` greedy tokens; with `cache=None` every step re-reads the whole sequence, as decoding without a cache does.

    torch loads here, with a model already in hand, so importing the room stays light."""
    import torch

    with torch.inference_mode():
        model = generator.model
        sequence = torch.tensor([prompt_ids], device=generator.device)
        feed = sequence
        tokens, step_ms, step_kv_bytes = [], [], []
        for _ in range(steps):
            started = time.perf_counter()
            if cache is None:
                logits = model(input_ids=sequence, use_cache=False, logits_to_keep=1).logits
            else:
                logits = model(input_ids=feed, past_key_values=cache, use_cache=True, logits_to_keep=1).logits
            next_id = logits[:, -1].argmax(-1, keepdim=True)
            if generator.device.startswith("cuda"):
                torch.cuda.synchronize()
            step_ms.append((time.perf_counter() - started) * 1000)
            step_kv_bytes.append(measured_kv_bytes(cache))
            tokens.append(int(next_id))
            feed = next_id
            sequence = torch.cat([sequence, next_id], dim=1)
        return Decoding(tokens, step_ms, step_kv_bytes, cache)


def prompt_of_length(generator: Generator, tokens: int) -> str:
    """Neutral filler text of about `tokens` tokens (rows report the count the model really saw)."""
    per_copy = max(generator.count_tokens(FILLER), 1)
    copies = tokens // per_copy + 1
    words = (FILLER * copies).split()
    return " ".join(words[: max(1, len(words) * tokens // (copies * per_copy))])


def cache_on_off(
    generator: TransformersGenerator, prompt: str, new_token_counts: Sequence[int], on_progress: Progress | None = None
) -> tuple[list[KVRow], dict[str, list[float]]]:
    """Generate the largest count once with the cache and once without; each count reads the first N steps."""
    progress = on_progress or (lambda fraction, message: None)
    prompt_ids = generator.tokenizer(prompt).input_ids
    longest = max(new_token_counts)
    progress(0.0, f"with the cache: {longest} tokens")
    cached = decode(generator, prompt_ids, longest, new_cache(DYNAMIC, generator.model.config, 0))
    progress(0.3, f"without the cache: {longest} tokens")
    uncached = decode(generator, prompt_ids, longest, None)
    rows = []
    for count in sorted(new_token_counts):
        on_ms, off_ms = sum(cached.step_ms[:count]), sum(uncached.step_ms[:count])
        theory = _theory(generator, DYNAMIC, len(prompt_ids), count)
        rows.append(_timed_row("cache_on_off", "cache on", len(prompt_ids), count, cached.step_kv_bytes[count - 1],
                               theory, on_ms, detail={"speedup": off_ms / on_ms}))
        rows.append(_timed_row("cache_on_off", "cache off", len(prompt_ids), count, 0, 0, off_ms))
    progress(1.0, "cache on/off done")
    return rows, {"cache on": cached.step_ms, "cache off": uncached.step_ms}


def memory_by_context(
    generators: Sequence[Generator], context_tokens: Sequence[int], on_progress: Progress | None = None
) -> list[KVRow]:
    """Cache bytes after a prompt of each length, from every backend that measures its cache, beside theory.

    A "naive formula" row per length counts every layer at every token, to show what sliding windows save.
    """
    progress = on_progress or (lambda fraction, message: None)
    rows = []
    steps = len(generators) * len(context_tokens)
    for g, generator in enumerate(generators):
        mode = getattr(generator, "kv_mode", "f16 (llama.cpp)")
        for c, tokens in enumerate(context_tokens):
            progress((g * len(context_tokens) + c) / steps, f"{generator.backend}: {tokens} tokens")
            generation = generator.generate(prompt_of_length(generator, tokens), stop=(), max_new_tokens=1)
            cached = generation.prompt_tokens + generation.new_tokens - 1
            rows.append(KVRow("memory", mode, cached, generation.new_tokens, generation.kv_bytes,
                              generation.kv_bytes_theory, generation.ms, None, label=generator.backend))
            if isinstance(generator, TransformersGenerator):
                shape_bytes = theoretical_kv_bytes(_without_windows(generator.model.config), cached,
                                                   generator.model.dtype.itemsize)
                rows.append(KVRow("memory", "naive formula", cached, 0, None, shape_bytes, None, None,
                                  label="every layer, every token"))
    progress(1.0, "memory done")
    return rows


def _without_windows(config: Any) -> Any:
    plain = copy.deepcopy(config.get_text_config() if hasattr(config, "get_text_config") else config)
    plain.layer_types = ["full_attention"] * plain.num_hidden_layers
    return plain


def cache_modes(
    generator: TransformersGenerator,
    prompts: Sequence[str],
    new_tokens: int,
    context_tokens: Sequence[int],
    modes: Sequence[str] = KV_MODES,
    on_progress: Progress | None = None,
) -> list[KVRow]:
    """For each mode: bytes at each context length, and on the given prompts its speed and its agreement with dynamic.

    Answer agreement compares the first line of each continuation (what a strategy keeps as the answer);
    token agreement is the share of the first `new_tokens` positions holding the same token as dynamic's.
    """
    progress = on_progress or (lambda fraction, message: None)
    prompt_ids = [generator.tokenizer(prompt).input_ids for prompt in prompts]
    reference: list[list[int]] = []
    rows = []
    for m, mode in enumerate(modes):
        progress(m / len(modes), f"{mode}: {len(prompts)} prompts")
        runs = [decode(generator, ids, new_tokens, new_cache(mode, generator.model.config, len(ids) + new_tokens))
                for ids in prompt_ids]
        if mode == DYNAMIC or not reference:
            reference = [run.token_ids for run in runs]
        total_ms = sum(sum(run.step_ms) for run in runs)
        mean_context = round(sum(len(ids) for ids in prompt_ids) / max(len(prompt_ids), 1))
        rows.append(KVRow(
            "modes", mode, mean_context, new_tokens,
            round(sum(measured_kv_bytes(run.cache) for run in runs) / max(len(runs), 1)),
            round(sum(_theory(generator, mode, len(ids), new_tokens) for ids in prompt_ids) / max(len(runs), 1)),
            total_ms, new_tokens * len(runs) / (total_ms / 1000) if total_ms else None,
            agreement=_token_agreement(reference, [run.token_ids for run in runs]),
            answer_agreement=_answer_agreement(generator, reference, [run.token_ids for run in runs]),
            label=f"{len(prompts)} prompts",
        ))
        for tokens in context_tokens:
            ids = generator.tokenizer(prompt_of_length(generator, tokens)).input_ids
            run = decode(generator, ids, 2, new_cache(mode, generator.model.config, len(ids) + 2))
            rows.append(KVRow("modes", mode, len(ids) + 1, 2, measured_kv_bytes(run.cache),
                              _theory(generator, mode, len(ids), 2), sum(run.step_ms), None, label="memory"))
    progress(1.0, "modes done")
    return rows


def _token_agreement(reference: list[list[int]], candidate: list[list[int]]) -> float:
    pairs = [(a, b) for ref, cand in zip(reference, candidate) for a, b in zip(ref, cand)]
    return sum(a == b for a, b in pairs) / len(pairs) if pairs else 1.0


def _answer_agreement(generator: TransformersGenerator, reference: list[list[int]], candidate: list[list[int]]) -> float:
    def answer(ids: list[int]) -> str:
        return generator.tokenizer.decode(ids, skip_special_tokens=True).strip().split("\n", 1)[0].strip()

    same = [answer(ref) == answer(cand) for ref, cand in zip(reference, candidate)]
    return sum(same) / len(same) if same else 1.0


def _theory(generator: TransformersGenerator, mode: str, prompt_tokens: int, new_tokens: int) -> int:
    return theoretical_kv_bytes(
        generator.model.config, prompt_tokens + new_tokens - 1, generator.model.dtype.itemsize, mode,
        decode_steps=new_tokens - 1, max_cache_len=prompt_tokens + new_tokens,
    )


def _timed_row(experiment: str, mode: str, context: int, new_tokens: int, measured: int | None, theory: int | None,
               ms: float, detail: dict | None = None) -> KVRow:
    return KVRow(experiment, mode, context, new_tokens, measured, theory, ms, new_tokens / (ms / 1000),
                 detail=detail or {})
