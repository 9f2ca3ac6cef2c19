"""Cache modes: the same model and prompt, with the KV cache kept in different ways.

- `dynamic` (the default): grows one position per token; sliding-window layers drop what they can no
  longer see.
- `static`: every position allocated before the first token, so the cache never reallocates
  (what compiled and CUDA-graph decoding need), at the price of holding memory it may not use.
- `quantized-int4`, `quantized-int2`: transformers' quanto layers (KIVI-style: keys and values in
  4 or 2 bits per element, a scale and a shift per group of 64, the newest 128 tokens kept at full
  precision until they are quantized as a block). transformers' `QuantizedCache` refuses models with
  sliding-window layers, so the lab builds the cache from the same layers itself, and gives the sliding
  layers a window (`lab.llm.sliding_quanto`) so that quantizing never undoes what the window saves.
- `fp8`: transformers' FP8 layers, one byte per element and one scale per tensor (the FP16 -> FP8 step
  serving engines take). They keep every token on every layer, sliding ones included.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from transformers.cache_utils import Cache

DYNAMIC, STATIC, QUANTIZED_INT4, QUANTIZED_INT2, FP8 = "dynamic", "static", "quantized-int4", "quantized-int2", "fp8"
KV_MODES = (DYNAMIC, STATIC, QUANTIZED_INT4, QUANTIZED_INT2, FP8)
QUANTO_GROUP_SIZE = 64
QUANTO_RESIDUAL_LENGTH = 128
"""transformers' own defaults for its quantized cache layers, not tuned here."""


def quantized_bits(mode: str) -> int | None:
    return {QUANTIZED_INT4: 4, QUANTIZED_INT2: 2}.get(mode)


def new_cache(mode: str, config: Any, max_cache_len: int) -> "Cache":
    """An empty cache in `mode` for a model with `config`; `max_cache_len` sizes a static one.

    transformers loads here, when a cache is built, so the mode names stay light to import."""
    from transformers.cache_utils import Cache, DynamicCache, Fp8QuantizedLayer, QuantoQuantizedLayer, StaticCache

    from lab.llm.sliding_quanto import SlidingQuantoLayer

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
            SlidingQuantoLayer(window, bits, QUANTO_GROUP_SIZE, QUANTO_RESIDUAL_LENGTH)
            if layer_type == "sliding_attention" and window
            else QuantoQuantizedLayer(nbits=bits, q_group_size=QUANTO_GROUP_SIZE, residual_length=QUANTO_RESIDUAL_LENGTH)
            for layer_type in layer_types
        ]
    )
