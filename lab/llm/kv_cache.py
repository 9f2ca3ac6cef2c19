"""KV-cache memory: measured on the cache object generation returned, and predicted from the config.

The two figures are kept apart on purpose: the measured one is what the process really held, the
theoretical one is what a reader can recompute by hand. They must agree, and a test checks they do
in every cache mode (`lab.llm.kv_modes`).

What the cache holds after generating `new` tokens from a `prompt`-token input: every token but the
last generated one (it was sampled, never fed back), so `prompt + new - 1` positions. Layers with a
sliding window (Gemma 3: 15 of its 18 layers, window 512) keep only the last `window - 1` of them,
which is why the naive `layers x tokens` formula overstates Gemma 3's cache about 2x at 1,500 tokens.
A static cache preallocates every position up front (a sliding layer: the whole window). A quantized
cache stores `nbits` per element plus a scale and a shift per group of elements, and keeps the newest
tokens, up to a residual length, at full precision until it quantizes them as a block.
"""

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lab.llm.kv_modes import DYNAMIC, FP8, QUANTO_GROUP_SIZE, QUANTO_RESIDUAL_LENGTH, STATIC, quantized_bits

STORED_STATES = ("keys", "values", "_quantized_keys", "_quantized_values")
FP8_SCALE_BYTES = 4

if TYPE_CHECKING:
    import torch


def measured_kv_bytes(cache: Any) -> int:
    """Bytes of every tensor a transformers cache stores for keys and values, quantized parts included."""
    if cache is None:
        return 0
    return sum(
        tensor.nbytes
        for layer in cache.layers
        for name in STORED_STATES
        for tensor in _plain_tensors(getattr(layer, name, None))
    )


def _plain_tensors(stored: Any) -> list["torch.Tensor"]:
    """The plain tensors behind a stored state: a tensor, a (data, scale) pair, or a quantized tensor subclass.

    torch loads here, on a live cache, so the theory in this module stays light to import."""
    import torch

    if stored is None:
        return []
    if isinstance(stored, (tuple, list)):
        return [tensor for part in stored for tensor in _plain_tensors(part)]
    if type(stored) is torch.Tensor or type(stored) is torch.nn.Parameter:
        return [stored]
    if hasattr(stored, "__tensor_flatten__"):
        names, _ = stored.__tensor_flatten__()
        return [tensor for name in names for tensor in _plain_tensors(getattr(stored, name))]
    return []


def theoretical_kv_bytes(
    config: Any,
    cached_tokens: int,
    bytes_per_element: int,
    mode: str = DYNAMIC,
    decode_steps: int = 0,
    max_cache_len: int = 0,
) -> int:
    """What each layer of `config` stores in `mode` after `cached_tokens`, summed over layers.

    `decode_steps` (tokens fed one at a time after the prompt) sets how many tokens a quantized cache
    still holds at full precision; `max_cache_len` is what a static cache preallocated.
    """
    shape = kv_shape(config)
    per_token = shape.kv_heads * shape.head_dim
    total = 0
    for sliding in shape.sliding_layers:
        window_tokens = shape.window - 1 if sliding else None
        if mode == STATIC:
            tokens = min(max_cache_len, shape.window) if sliding else max_cache_len
            total += 2 * per_token * tokens * bytes_per_element
        elif mode == FP8:
            total += 2 * (per_token * cached_tokens + FP8_SCALE_BYTES)
        elif bits := quantized_bits(mode):
            total += 2 * _quantized_layer_bytes(per_token, cached_tokens, window_tokens, decode_steps, bits, bytes_per_element)
        else:
            tokens = min(cached_tokens, window_tokens) if sliding else cached_tokens
            total += 2 * per_token * tokens * bytes_per_element
    return total


def _quantized_layer_bytes(
    per_token: int, cached: int, window_tokens: int | None, decode_steps: int, bits: int, bytes_per_element: int
) -> int:
    """One of keys or values: packed integers, a scale and a shift per group, and the full-precision residual."""
    if window_tokens is not None and cached > window_tokens:
        quantized, residual = window_tokens, 0
    else:
        residual = decode_steps % QUANTO_RESIDUAL_LENGTH
        quantized = cached - residual
    elements = per_token * quantized
    groups = math.ceil(elements / QUANTO_GROUP_SIZE)
    return elements * bits // 8 + 2 * groups * bytes_per_element + per_token * residual * bytes_per_element


@dataclass(frozen=True)
class KVShape:
    """What the cache size depends on, read from any HF config."""

    layers: int
    kv_heads: int
    head_dim: int
    sliding_layers: list[bool]
    window: int


def kv_shape(config: Any) -> KVShape:
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    layers = text_config.num_hidden_layers
    kv_heads = getattr(text_config, "num_key_value_heads", None) or text_config.num_attention_heads
    head_dim = getattr(text_config, "head_dim", None) or text_config.hidden_size // text_config.num_attention_heads
    layer_types = getattr(text_config, "layer_types", None) or ["full_attention"] * layers
    window = getattr(text_config, "sliding_window", None) or 0
    sliding = [layer_type == "sliding_attention" and bool(window) for layer_type in layer_types]
    return KVShape(layers, kv_heads, head_dim, sliding, window)
