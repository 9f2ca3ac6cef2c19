"""Where models run: CUDA with bf16 when a GPU is visible, else the CPU in fp32.

Every room that loads a model (the embedder in `lab.kb`, the generator in `lab.llm`) asks the same
question, so the answer lives here, once.
"""

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.core.settings import LabSettings

if TYPE_CHECKING:
    import torch


class ModelLoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class Placement:
    device: str
    dtype: "torch.dtype"


def resolve_placement(settings: LabSettings) -> Placement:
    """CUDA with bf16 when a GPU is visible (or asked for), else CPU with fp32.

    torch (seconds to import) loads here, just before a model does, so reading settings stays light."""
    import torch

    device = settings.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError("Settings ask for device 'cuda' but no GPU is visible; set RAGLAB_DEVICE=cpu or auto.")
    if settings.dtype != "auto":
        dtype = getattr(torch, settings.dtype)
    else:
        dtype = torch.bfloat16 if device == "cuda" else torch.float32
    return Placement(device, dtype)


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, which containers and `taskset` narrow, not the machine's."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
