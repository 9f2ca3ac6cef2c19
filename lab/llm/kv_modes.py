"""Cache modes: the same model and prompt, with the KV cache kept in different ways.

- `dynamic` (the default): grows one position per token; sliding-window layers drop what they can no
  longer see.
- `static`: every position allocated before the first token, so the cache never reallocates
  (what compiled and CUDA-graph decoding need), at the price of holding memory it may not use.
- `quantized-int4`, `quantized-int2`: transformers' quanto layers (KIVI-style: keys and values in
  4 or 2 bits per element, a scale and a shift per group of 64, the newest 128 tokens kept at full
  precision until they are quantized as a block). transformers' `QuantizedCache` refuses models with
  sliding-window layers, so the lab builds the cache from the same layers itself, and gives the sliding
  layers a window (`SlidingQuantoLayer`) so that quantizing never undoes what the window saves.
- `fp8`: transformers' FP8 layers, one byte per element and one scale per tensor (the FP16 -> FP8 step
  serving engines take). They keep every token on every layer, sliding ones included.
"""

from typing import Any

import torch
from transformers.cache_utils import Cache, DynamicCache, Fp8QuantizedLayer, QuantoQuantizedLayer, StaticCache

DYNAMIC, STATIC, QUANTIZED_INT4, QUANTIZED_INT2, FP8 = "dynamic", "static", "quantized-int4", "quantized-int2", "fp8"
KV_MODES = (DYNAMIC, STATIC, QUANTIZED_INT4, QUANTIZED_INT2, FP8)
QUANTO_GROUP_SIZE = 64
QUANTO_RESIDUAL_LENGTH = 128
"""transformers' own defaults for its quantized cache layers, not tuned here."""


def quantized_bits(mode: str) -> int | None:
    return {QUANTIZED_INT4: 4, QUANTIZED_INT2: 2}.get(mode)


class SlidingQuantoLayer(QuantoQuantizedLayer):
    """A quanto layer for a sliding-attention layer: it keeps, quantized, only the last `window - 1` tokens.

    Past the window, each update quantizes the visible tokens afresh; the model masks by position, so
    the sizes it is told (`get_mask_sizes`) are those of a dynamic sliding layer.
    """

    is_sliding = True

    def __init__(self, sliding_window: int, nbits: int):
        super().__init__(nbits=nbits, q_group_size=QUANTO_GROUP_SIZE, residual_length=QUANTO_RESIDUAL_LENGTH)
        self.sliding_window = sliding_window

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        keys, values = super().update(key_states, value_states, *args, **kwargs)
        keep = self.sliding_window - 1
        residual = self.keys.shape[-2] if self.keys.dim() == 4 else 0
        if self._quantized_keys.shape[-2] + residual > keep:
            self._quantized_keys = self._quantize(keys[..., -keep:, :].contiguous(), axis=self.axis_key)
            self._quantized_values = self._quantize(values[..., -keep:, :].contiguous(), axis=self.axis_value)
            self.keys = torch.tensor([], dtype=keys.dtype, device=keys.device)
            self.values = torch.tensor([], dtype=values.dtype, device=values.device)
        return keys, values

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        offset = max(self.cumulative_length - self.sliding_window + 1, 0)
        return min(self.cumulative_length, self.sliding_window - 1) + query_length, offset


def new_cache(mode: str, config: Any, max_cache_len: int) -> Cache:
    """An empty cache in `mode` for a model with `config`; `max_cache_len` sizes a static one."""
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    if mode == DYNAMIC:
        return DynamicCache(config=config)
    if mode == STATIC:
        return StaticCache(config=config, max_cache_len=max_cache_len)
    layer_types = getattr(text_config, "layer_types", None) or ["full_attention"] * text_config.num_hidden_layers
    window = getattr(text_config, "sliding_window", None)
    if mode == FP8:
        return Cache(layers=[Fp8QuantizedLayer() for _ in layer_types])
    bits = quantized_bits(mode)
    if bits is None:
        raise ValueError(f"Unknown KV-cache mode {mode!r}; choose one of {', '.join(KV_MODES)}.")
    return Cache(
        layers=[
            SlidingQuantoLayer(window, bits)
            if layer_type == "sliding_attention" and window
            else QuantoQuantizedLayer(nbits=bits, q_group_size=QUANTO_GROUP_SIZE, residual_length=QUANTO_RESIDUAL_LENGTH)
            for layer_type in layer_types
        ]
    )
