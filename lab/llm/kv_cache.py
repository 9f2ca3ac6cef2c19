"""KV-cache memory: measured on the cache object generation returned, and predicted from the config.

The two figures are kept apart on purpose: the measured one is what the process really held, the
theoretical one is what a reader can recompute by hand. They must agree, and a test checks they do.

What the cache holds after generating `new` tokens from a `prompt`-token input: every token but the
last generated one (it was sampled, never fed back), so `prompt + new - 1` positions. Layers with a
sliding window (Gemma 3: 15 of its 18 layers, window 512) keep only the last `window - 1` of them,
which is why the naive `layers x tokens` formula overstates Gemma 3's cache about 2x at 1,500 tokens.
"""

from typing import Any

import torch


def measured_kv_bytes(cache: Any) -> int:
    """Sum of the key and value tensors' bytes over every layer of a transformers cache."""
    if cache is None:
        return 0
    total = 0
    for layer in cache.layers:
        for tensor in (getattr(layer, "keys", None), getattr(layer, "values", None)):
            if isinstance(tensor, torch.Tensor):
                total += tensor.nbytes
    return total


def theoretical_kv_bytes(config: Any, cached_tokens: int, bytes_per_element: int) -> int:
    """Sum over layers of 2 x kv_heads x head_dim x tokens kept x bytes per element."""
    text_config = config.get_text_config() if hasattr(config, "get_text_config") else config
    layers = text_config.num_hidden_layers
    kv_heads = getattr(text_config, "num_key_value_heads", None) or text_config.num_attention_heads
    head_dim = getattr(text_config, "head_dim", None) or text_config.hidden_size // text_config.num_attention_heads
    layer_types = getattr(text_config, "layer_types", None) or ["full_attention"] * layers
    window = getattr(text_config, "sliding_window", None)
    total_tokens = 0
    for layer_type in layer_types:
        if layer_type == "sliding_attention" and window:
            total_tokens += min(cached_tokens, window - 1)
        else:
            total_tokens += cached_tokens
    return 2 * kv_heads * head_dim * total_tokens * bytes_per_element
