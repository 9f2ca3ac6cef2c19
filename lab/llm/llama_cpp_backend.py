"""The `llama-cpp` backend: the embedded Q4_K_M GGUF run natively by llama.cpp, in process.

llama.cpp runs the quantized weights as they are, with no de-quantizing, and decodes several times
faster than transformers in fp32 on a CPU (`bench/backends.py`). It is the lab's default.

Scoring reads logits only where a continuation token is predicted. Gemma 3 has a 262k-token
vocabulary, so keeping logits for every position (`logits_all=True`) would hold n_ctx x 262k floats,
about 2 GB at 2,048 tokens; instead the prompt is evaluated once, its last logits give every
continuation's first token, and the longer continuations are decoded together: each is its own
sequence in one unified cache that shares the prompt's cells (`seq_cp` copies no data), so forty
answer candidates cost one or two batched decodes instead of forty (prefix reuse, not re-encoding).

Reuse across calls is kept reproducible. llama.cpp's quantized kernels round differently for
different batch shapes (the same continuation scored after a prompt evaluated in one piece or in two
differs by up to 0.3 nats), so a cache filled in some other order would make an answer depend on
what ran before it. The prompt is therefore always evaluated in chunks of `PREFILL_CHUNK` tokens
aligned at position 0, and only whole chunks that a fresh evaluation would have computed the same
way are reused. Generation is greedy decoding written here on those same logits.

KV-cache bytes come from llama.cpp itself: the size of the sequence's state, which is the cache
cells in use (keys and values, f16 by default) plus a small header. The figure from the model's
GGUF metadata is kept beside it as theory.
"""

import contextlib
import ctypes
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import llama_cpp
import numpy as np

from lab.core.placement import ModelLoadError, usable_cores
from lab.core.tracing import Generation, Scores
from lab.llm.backend import Capabilities, named_as_base_model, shared_prefix_length

log = logging.getLogger(__name__)

PREFILL_CHUNK = 128
"""Chosen by hand: a prompt cache is reused in whole chunks, so smaller chunks reuse more and batch less;
`bench/cpu_settings.py --part config` reads prefill at it against llama.cpp's default of 512."""
PARALLEL_SEQUENCES = 16
"""Sequences one context holds: the prompt's, and continuations scored side by side after it. Chosen by hand, not
searched; `bench/answers.py` reads the selection time it gives (s/q sel, about 40 candidates a question) and
`bench/cpu_settings.py --part config` what it costs prefill against one sequence."""
SLIDING_LAYER_PATTERN = {"gemma3": 6}
"""Every Nth layer attends to the whole context and the others to a sliding window, as llama.cpp sets it
(checked against llama.cpp's own state size for Gemma 3; add an architecture once measured the same way)."""


class LlamaCppGenerator:
    """One llama.cpp context, shared by every caller in the process: a lock lets one call at a time use its
    cache, so two web-lab users comparing at once take turns instead of corrupting each other's prompts."""

    backend = "llama-cpp"

    def __init__(self, llama: Any, model_id: str, gguf_path: Path, max_new_tokens: int, device: str = "cpu"):
        self.llama = llama
        self.model_id = model_id
        self.gguf_path = gguf_path
        self.max_new_tokens = max_new_tokens
        self.device = device
        self.capabilities = Capabilities(
            can_score=True, chat_only=False, measures_kv=True, base_model=named_as_base_model(model_id)
        )
        self._reusable = 0
        self._lock = threading.Lock()

    @classmethod
    def load(cls, gguf_path: Path, model_id: str, max_new_tokens: int, context_tokens: int, threads: int = 0,
             gpu_layers: int = 0) -> "LlamaCppGenerator":
        """Open a GGUF with a context of `context_tokens`; `gpu_layers=-1` offloads every layer to a GPU build.

        `threads=0` takes every core the process may use, not every core of the machine: llama.cpp's threads
        wait for each other at every step, so one more thread than there are cores stalls them all.
        """
        threads = threads or usable_cores()
        try:
            llama = llama_cpp.Llama(
                model_path=str(gguf_path),
                n_ctx=context_tokens,
                n_batch=PREFILL_CHUNK,
                n_ubatch=PREFILL_CHUNK,
                n_threads=threads,
                n_threads_batch=threads,
                n_gpu_layers=gpu_layers,
                logits_all=False,
                verbose=False,
            )
            _reopen_with_parallel_sequences(llama, PARALLEL_SEQUENCES)
        except ValueError as error:
            raise ModelLoadError(
                f"llama.cpp cannot open {gguf_path}: {error}. Point generator at a valid .gguf file."
            ) from error
        return cls(llama, model_id, gguf_path, max_new_tokens, "cuda" if gpu_layers else "cpu")

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model_id,
            "url": None,
            "device": self.device,
            "file": str(self.gguf_path),
            "capabilities": self.capabilities.to_dict(),
        }

    def count_tokens(self, text: str) -> int:
        return len(self._tokens(text, bos=False))

    def generate(self, prompt: str, stop: Sequence[str] = ("\n",), max_new_tokens: int | None = None) -> Generation:
        """Greedy completion, cut before the first stop string; stops at an end-of-generation token too."""
        with self._lock:
            return self._generate(prompt, stop, max_new_tokens or self.max_new_tokens)

    def score(self, prompt: str, continuations: Sequence[str]) -> Scores:
        with self._lock:
            return self._score(prompt, continuations)

    def _generate(self, prompt: str, stop: Sequence[str], max_new_tokens: int) -> Generation:
        started = time.perf_counter()
        prompt_ids = self._tokens(prompt, bos=True)
        logits = self._prefill(prompt_ids)
        vocab = self.llama._model.vocab
        new_ids: list[int] = []
        text = ""
        for _ in range(max_new_tokens):
            token = int(np.argmax(logits))
            if llama_cpp.llama_vocab_is_eog(vocab, token) or self.llama.n_tokens >= self.llama.n_ctx():
                break
            new_ids.append(token)
            text = self.llama.detokenize(new_ids).decode("utf-8", errors="ignore")
            if any(marker in text for marker in stop):
                break
            self.llama.eval([token])
            logits = self._logits(-1)
        for marker in stop:
            text = text.split(marker, 1)[0]
        return Generation(
            text=text.strip(),
            prompt_tokens=len(prompt_ids),
            new_tokens=len(new_ids),
            kv_bytes=self.kv_state_bytes(),
            kv_bytes_theory=self.theoretical_kv_bytes(self.llama.n_tokens),
            ms=(time.perf_counter() - started) * 1000,
        )

    def _score(self, prompt: str, continuations: Sequence[str]) -> Scores:
        started = time.perf_counter()
        prompt_ids = self._tokens(prompt, bos=True)
        first_token = _log_softmax(self._prefill(prompt_ids))
        token_lists = [self._tokens(c, bos=False) for c in continuations]
        values = [float(first_token[ids[0]]) if ids else 0.0 for ids in token_lists]
        longer = [(index, ids) for index, ids in enumerate(token_lists) if len(ids) > 1]
        for group in _groups(longer, self.llama.n_batch, PARALLEL_SEQUENCES - 1):
            for index, rest in zip((index for index, _ in group), self._side_by_side(len(prompt_ids), group)):
                values[index] += rest
        return Scores(
            values,
            "likelihood",
            len(prompt_ids),
            (time.perf_counter() - started) * 1000,
            kv_bytes=self.kv_state_bytes(),
            kv_bytes_theory=self.theoretical_kv_bytes(len(prompt_ids)),
        )

    def _side_by_side(self, prompt_length: int, group: list[tuple[int, list[int]]]) -> list[float]:
        """Log-likelihood of each continuation after its first token, every one in its own sequence.

        The rows (sequence, position, token, next token) go through as many decodes of `n_batch` rows as
        they fill; a continuation longer than one decode simply spans two.
        """
        memory = self.llama._ctx.memory
        self._rewind(prompt_length)
        rows = []
        for sequence, (_, ids) in enumerate(group, start=1):
            llama_cpp.llama_memory_seq_rm(memory, sequence, -1, -1)
            llama_cpp.llama_memory_seq_cp(memory, 0, sequence, 0, prompt_length)
            rows.extend((sequence, prompt_length + i, token, ids[i + 1]) for i, token in enumerate(ids[:-1]))
        totals = [0.0] * (len(group) + 1)
        try:
            for start in range(0, len(rows), self.llama.n_batch):
                piece = rows[start : start + self.llama.n_batch]
                batch = self.llama._batch.batch
                for row, (sequence, position, token, _) in enumerate(piece):
                    batch.token[row], batch.pos[row] = token, position
                    batch.seq_id[row][0], batch.n_seq_id[row], batch.logits[row] = sequence, 1, True
                batch.n_tokens = len(piece)
                self.llama._ctx.decode(self.llama._batch)
                for row, (sequence, _, _, following) in enumerate(piece):
                    totals[sequence] += _log_probability(self._logits(row), following)
            return totals[1:]
        finally:
            for sequence in range(1, len(group) + 1):
                llama_cpp.llama_memory_seq_rm(memory, sequence, -1, -1)

    def kv_state_bytes(self) -> int:
        """llama.cpp's own count of the bytes sequence 0's state takes: the KV cells in use, and a header."""
        return int(llama_cpp.llama_state_seq_get_size(self.llama.ctx, 0))

    def theoretical_kv_bytes(self, cached_tokens: int, bytes_per_element: int = 2) -> int:
        """2 x kv heads x (key + value size) x tokens kept x f16 bytes, summed over layers, from the GGUF.

        Sliding-window layers keep only the last `sliding_window` tokens. The GGUF names the window but
        not which layers slide: llama.cpp knows that per architecture (`SLIDING_LAYER_PATTERN`), and an
        architecture missing there is counted as if every layer kept every token.
        """
        meta = self.llama.metadata
        arch = meta.get("general.architecture", "")
        layers = int(meta.get(f"{arch}.block_count", 0))
        kv_heads = int(meta.get(f"{arch}.attention.head_count_kv", meta.get(f"{arch}.attention.head_count", 0)))
        key_size = int(meta.get(f"{arch}.attention.key_length", 0))
        value_size = int(meta.get(f"{arch}.attention.value_length", key_size))
        window = int(meta.get(f"{arch}.attention.sliding_window", 0))
        pattern = SLIDING_LAYER_PATTERN.get(arch)
        kept = 0
        for layer in range(layers):
            slides = bool(window and pattern and (layer + 1) % pattern != 0)
            kept += min(cached_tokens, window) if slides else cached_tokens
        return kv_heads * (key_size + value_size) * kept * bytes_per_element

    def _tokens(self, text: str, bos: bool) -> list[int]:
        return self.llama.tokenize(text.encode("utf-8"), add_bos=bos, special=False)

    def _prefill(self, prompt_ids: list[int]) -> np.ndarray:
        """Logits after the prompt's last token; whole aligned chunks already in the cache are reused."""
        if len(prompt_ids) >= self.llama.n_ctx():
            raise ValueError(
                f"The prompt is {len(prompt_ids)} tokens; the llama-cpp context holds {self.llama.n_ctx()}. "
                "Raise context_tokens (RAGLAB_CONTEXT_TOKENS) or lower top_k."
            )
        held = self.llama.input_ids[: min(self.llama.n_tokens, self._reusable)].tolist()
        reused = shared_prefix_length(held, prompt_ids[:-1]) // PREFILL_CHUNK * PREFILL_CHUNK
        if not self._rewind(reused):
            reused = 0
            self.llama.reset()
        self.llama.eval(prompt_ids[reused:])
        self._reusable = len(prompt_ids) // PREFILL_CHUNK * PREFILL_CHUNK
        return self._logits(-1)

    def _rewind(self, position: int) -> bool:
        """Drop the cache after `position`; False where llama.cpp cannot."""
        if position > self.llama.n_tokens or not self.llama._ctx.kv_cache_seq_rm(-1, position, -1):
            return False
        self.llama.n_tokens = position
        return True

    def _logits(self, index: int) -> np.ndarray:
        pointer = self.llama._ctx.get_logits_ith(index)
        return np.ctypeslib.as_array(
            ctypes.cast(pointer, ctypes.POINTER(ctypes.c_float)), shape=(self.llama.n_vocab(),)
        ).copy()


def _groups(items: list[tuple[int, list[int]]], tokens: int, sequences: int) -> list[list[tuple[int, list[int]]]]:
    """Consecutive continuations packed into groups of at most `sequences`, each group's rows about one decode."""
    groups: list[list[tuple[int, list[int]]]] = [[]]
    used = 0
    for index, ids in items:
        if groups[-1] and (used + len(ids) - 1 > tokens or len(groups[-1]) == sequences):
            groups.append([])
            used = 0
        groups[-1].append((index, ids))
        used += len(ids) - 1
    return [group for group in groups if group]


def _reopen_with_parallel_sequences(llama: Any, sequences: int) -> None:
    """Give the context room for `sequences` sequences in one unified cache (the Llama class offers no option).

    Unified, every sequence may use the whole context; split, each would get a 1/`sequences` share.
    """
    params = llama.context_params
    params.n_seq_max = sequences
    params.kv_unified = True
    llama._ctx.close()
    context = llama_cpp._internals.LlamaContext(model=llama._model, params=params, verbose=False)
    llama._ctx = llama._stack.enter_context(contextlib.closing(context))


def _log_probability(logits: np.ndarray, token: int) -> float:
    top = float(logits.max())
    return float(logits[token]) - top - float(np.log(np.exp(logits - top, dtype=np.float64).sum()))


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max()
    return shifted - np.log(np.exp(shifted).sum())
