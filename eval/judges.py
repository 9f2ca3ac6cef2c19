"""The judge behind ragas' LLM metrics: the lab's own generator, or any OpenAI-compatible endpoint.

By default the embedded generator judges, so evaluation needs nothing outside the machine. It is a
270M *base* model and ragas asks for JSON: most of its verdicts will not parse, and those items are
recorded as NaN with the reason, never as a score. A real judge is any server speaking the OpenAI
chat API (vLLM, TGI, Ollama, llama.cpp server, a hosted API): `judge_url` + `judge_model`, with the key
read from the environment variable named by `judge_api_key_env`, so the key is never in the settings,
the run store or a log line. An endpoint that does not answer a probe is reported once and the LLM
metrics are skipped for the run.
"""

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lab.core import LabSettings
from lab.llm import Generator

if TYPE_CHECKING:
    from ragas.llms.base import BaseRagasLLM

log = logging.getLogger(__name__)


class JudgeUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Judge:
    llm: "BaseRagasLLM"
    description: str


def judge_description(settings: LabSettings, generator_id: str) -> str:
    """What judged, for the run record: the endpoint and model, never the key."""
    if settings.judge_url:
        return f"endpoint {settings.judge_url} model {settings.judge_model or '(server default)'}"
    return f"generator {generator_id}"


def build_judge(settings: LabSettings, generator: Generator) -> Judge:
    """The configured judge; raises JudgeUnavailable, once, when the endpoint does not answer.

    ragas and langchain (seconds to import) load here, when a run scores, not when the Settings page probes."""
    from eval.ragas_metrics import GeneratorJudge

    description = judge_description(settings, generator.model_id)
    if not settings.judge_url:
        return Judge(GeneratorJudge(generator=generator, max_new_tokens=settings.judge_max_new_tokens), description)
    probe_endpoint(settings.judge_url)
    from langchain_openai import ChatOpenAI
    from ragas.llms.base import LangchainLLMWrapper

    chat = ChatOpenAI(
        base_url=settings.judge_url,
        model=settings.judge_model or "default",
        api_key=os.environ.get(settings.judge_api_key_env) or "not-needed",
        temperature=0.0,
        max_tokens=settings.judge_max_new_tokens,
        timeout=settings.judge_timeout_s,
        max_retries=1,
    )
    return Judge(LangchainLLMWrapper(chat), description)


def probe_endpoint(url: str, timeout_s: float = 5.0) -> None:
    """GET `<url>/models`, which every OpenAI-compatible server answers; a refused or silent one is down."""
    import httpx

    try:
        httpx.get(url.rstrip("/") + "/models", timeout=timeout_s)
    except httpx.HTTPError as error:
        raise JudgeUnavailable(
            f"Judge endpoint {url} is not answering ({type(error).__name__}: {error}); LLM metrics are skipped. "
            "Start the server or set RAGLAB_JUDGE_URL to one that runs, or leave it unset to judge with the generator."
        ) from error
