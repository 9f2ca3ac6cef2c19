"""A quantized KV-cache layer for sliding-attention layers, used by the quantized cache modes (`lab.llm.kv_modes`).

transformers' `QuantizedCache` refuses models with sliding-window layers, so the lab builds the cache from
the same quanto layers itself. A plain quanto layer on a sliding layer would keep every token; this one
keeps the window, so quantizing never undoes what the window saves. It lives apart from the mode names
because subclassing transformers' layer imports transformers and torch, which take seconds.
"""

import torch
from transformers.cache_utils import QuantoQuantizedLayer


class SlidingQuantoLayer(QuantoQuantizedLayer):
    """A quanto layer for a sliding-attention layer: it keeps, quantized, only the last `window - 1` tokens.

    Past the window, each update quantizes the visible tokens afresh; the model masks by position, so
    the sizes it is told (`get_mask_sizes`) are those of a dynamic sliding layer.
    """

    is_sliding = True

    def __init__(self, sliding_window: int, nbits: int, q_group_size: int, residual_length: int):
        super().__init__(nbits=nbits, q_group_size=q_group_size, residual_length=residual_length)
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
