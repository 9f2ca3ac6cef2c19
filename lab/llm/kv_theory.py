"""The KV-cache theory calculator: cache size from a model's published attention shape, no model loaded.

bytes per token = 2 (keys and values) x layers x kv_heads x head_dim x bytes per element, where a
sliding-window layer stops growing at its window. Multi-head attention (Llama-2-7B: 32 KV heads) pays
4x what grouped-query attention with 8 KV heads (Llama-3-8B) pays for the same depth and width.
The shapes live in `data/kv_model_configs.toml`, each with the config it was copied from.
"""

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CONFIG_FILE = Path(__file__).parent / "data" / "kv_model_configs.toml"
DTYPE_BYTES = {"fp32": 4.0, "fp16": 2.0, "bf16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5, "int2": 0.25}
SEED_CLAIM = "a 7B model generating 1,000 tokens holds about 2 GB of KV cache"


@dataclass(frozen=True)
class ModelShape:
    name: str
    source: str
    parameters: int
    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    sliding_window: int
    global_every: int
    context_window: int

    def sliding_layers(self) -> int:
        if not self.sliding_window:
            return 0
        if not self.global_every:
            return self.layers
        return self.layers - self.layers // self.global_every

    def cache_bytes(self, context: int, dtype: str = "fp16", batch: int = 1) -> int:
        """Cache for `batch` sequences of `context` tokens each (a beam search of width k counts as batch k)."""
        per_layer_token = 2 * self.kv_heads * self.head_dim * DTYPE_BYTES[dtype]
        sliding = self.sliding_layers()
        tokens = (self.layers - sliding) * context + sliding * min(context, self.sliding_window or context)
        return round(batch * per_layer_token * tokens)

    def bytes_per_token(self, dtype: str = "fp16") -> int:
        """What one more token adds while every layer still grows (before any window fills)."""
        return round(2 * self.layers * self.kv_heads * self.head_dim * DTYPE_BYTES[dtype])

    def longest_context(self, memory_bytes: float, dtype: str = "fp16", weight_dtype: str = "fp16", batch: int = 1) -> int:
        """The longest context whose cache fits in `memory_bytes` after the weights, capped at the model's window."""
        free = memory_bytes - self.parameters * DTYPE_BYTES[weight_dtype]
        if free <= 0 or self.cache_bytes(1, dtype, batch) > free:
            return 0
        low, high = 1, self.context_window
        while low < high:
            middle = (low + high + 1) // 2
            if self.cache_bytes(middle, dtype, batch) <= free:
                low = middle
            else:
                high = middle - 1
        return low


@cache
def model_shapes() -> dict[str, ModelShape]:
    data = tomllib.loads(CONFIG_FILE.read_text())
    return {name: ModelShape(name=name, **fields) for name, fields in data.items()}


def seed_claim_check() -> dict[str, object]:
    """What the formula says of the seed's "7B, 1,000 tokens, about 2 GB", and what it takes to make it 2 GB."""
    llama = model_shapes()["llama-2-7b"]
    one = llama.cache_bytes(1000, "fp16")
    return {
        "claim": SEED_CLAIM,
        "llama-2-7b fp16, batch 1, 1,000 tokens": one,
        "fp32, batch 1": llama.cache_bytes(1000, "fp32"),
        "fp16, batch (or beams) 4": llama.cache_bytes(1000, "fp16", batch=4),
        "fp32, batch (or beams) 2": llama.cache_bytes(1000, "fp32", batch=2),
        "llama-3-8b fp16, batch 1 (grouped-query)": model_shapes()["llama-3-8b"].cache_bytes(1000, "fp16"),
        "reading": (
            f"Llama-2-7B in fp16 holds {one / 1e9:.2f} GB for one 1,000-token sequence; 2 GB needs four sequences "
            "(a batch or beam of 4) in fp16, or two in fp32. A grouped-query 7-8B model holds a quarter of that."
        ),
    }
