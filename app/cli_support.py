"""What every `raglab` command shares: the common options, settings from --home, errors, progress bars."""

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

if TYPE_CHECKING:
    from tqdm import tqdm

    from lab.context import LabContext
    from lab.core import LabSettings

Progress = Callable[[float, str], None]

HomeOption = Annotated[
    Optional[Path], typer.Option("--home", help="Lab home holding knowledge bases (default ~/.raglab or RAGLAB_HOME).")
]
HostOption = Annotated[
    str, typer.Option("--host", help="Address to listen on. 127.0.0.1 keeps it to this machine; any other exposes it.")
]
KbOption = Annotated[str, typer.Option("--kb", help="Knowledge base name.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ProfileOption = Annotated[
    Optional[str], typer.Option("--profile", help="Answer with the configuration `raglab tune` saved under this name.")
]
BackendOption = Annotated[
    Optional[str], typer.Option("--backend", help="Generator backend: llama-cpp, transformers or openai (default: settings).")
]
GeneratorOption = Annotated[
    Optional[str], typer.Option("--generator", help="Generator: a .gguf, a model folder or id, or the server's model name.")
]
GeneratorUrlOption = Annotated[
    Optional[str], typer.Option("--generator-url", help="OpenAI-compatible base URL for --backend openai.")
]
AnswerModeOption = Annotated[
    Optional[str],
    typer.Option(
        "--answer-mode", help="generate, select (rank candidate answers from the passages) or auto (default: settings)."
    ),
]
GeneratorKeyEnvOption = Annotated[
    Optional[str], typer.Option("--generator-key-env", help="NAME of the environment variable holding the server's key.")
]


def settings_from(
    home: Path | None,
    backend: str | None = None,
    generator: str | None = None,
    generator_url: str | None = None,
    generator_key_env: str | None = None,
    answer_mode: str | None = None,
) -> "LabSettings":
    """Settings with the command's flags on top; flags go through the environment so `raglab lab` passes them on."""
    from pydantic import ValidationError

    from lab.core import LabSettings

    if home is not None:
        os.environ["RAGLAB_HOME"] = str(home.expanduser().resolve())
    flags = {
        "BACKEND": backend,
        "GENERATOR": generator,
        "GENERATOR_URL": generator_url,
        "GENERATOR_KEY_ENV": generator_key_env,
        "ANSWER_MODE": answer_mode,
    }
    os.environ.update({f"RAGLAB_{name}": value for name, value in flags.items() if value is not None})
    try:
        return LabSettings()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        fail(f"invalid settings ({problems}); see `raglab --help` or README 'Configuration'")


def fail(message: str) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def tqdm_progress(description: str) -> tuple["tqdm", Progress]:
    from tqdm import tqdm

    bar = tqdm(total=100, desc=description, file=sys.stderr, bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")

    def update(fraction: float, message: str) -> None:
        bar.n = round(fraction * 100)
        bar.set_postfix_str(message, refresh=True)

    return bar, update


def open_context(settings: "LabSettings", kb: str) -> "LabContext":
    """The context for `kb`, building the bundled demo on first use; a missing KB or model is a clean error."""
    from lab.context import build_context
    from lab.core import ModelLoadError
    from lab.ingestion import build_bundled_demo, bundled_demo, demo_kb_missing
    from lab.kb import KnowledgeBaseError

    try:
        if demo_kb_missing(settings, kb):
            sources = ", ".join(path.name for path in bundled_demo(kb).sources)
            bar, update = tqdm_progress(f"first use: build {kb} from {sources}")
            with bar:
                build_bundled_demo(settings, kb, on_progress=update)
        return build_context(settings, kb)
    except (KnowledgeBaseError, ModelLoadError) as error:
        fail(str(error))
