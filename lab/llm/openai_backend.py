"""The `openai` backend: any OpenAI-compatible server (vLLM, TGI, Ollama, llama.cpp's server, a hosted API).

The lab stays light and the server does the work, on as many GPUs as it has. On connecting, the
backend asks the server what it can do, once:

- generation goes through `/v1/completions` where the server offers it, else through chat, with the
  prompt as the user's text to continue (`chat_only`);
- scoring reads the prompt's token log-probabilities back (`echo` with `logprobs`, as vLLM and the
  llama.cpp server do) and sums those of the continuation. A server that returns them, but slowly, is
  not asked for them: llama-cpp-python's server sorts the whole vocabulary for every echoed token, which
  for Gemma's 262k tokens is a tenth of a second a token, a minute for one agent decision. The probe
  times it and `ECHO_MS_PER_TOKEN_LIMIT` decides (`generator_scoring` overrides);
- where the server returns no log-probabilities, a decision among labelled options becomes a
  constrained choice (`lab.llm.choice`; the scores it yields are described in `lab.llm.backend`).

The key is read from the environment variable the settings name, when connecting, and is never
stored, logged or reported. The official client retries 429s, 5xxs and lost connections with
exponential backoff; what still fails raises `GeneratorUnavailable`, naming the URL and the status.
KV-cache bytes live on the server, out of sight: calls record none, measured or theoretical.
"""

import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import openai

from lab.core.placement import ModelLoadError
from lab.core.settings import EMBEDDED_GENERATOR, LabSettings
from lab.core.tracing import Generation, Scores
from lab.llm.backend import Capabilities, GeneratorUnavailable, choice_scores
from lab.llm.choice import ConstrainedChoice

log = logging.getLogger(__name__)

CHAT_SYSTEM = "Continue the user's text. Reply with the continuation only, nothing before it."
ECHO_MS_PER_TOKEN_LIMIT = 20.0
"""Chosen by hand far below what llama-cpp-python's server was measured to take (about 350 ms a token on this
repository's 2-core CPU, docs/benchmarks.md), which an agent decision cannot afford; not searched."""
PROBE_TEXT = "The capital of France is Paris. The capital of Italy is Rome. The capital of Spain is"


class OpenAIGenerator:
    """A model on an OpenAI-compatible server; `url` is the address as errors and traces show it, without a
    user, password or query (`redacted_url`), and only the client holds the one it was given."""

    backend = "openai"

    def __init__(self, client: openai.OpenAI, url: str, model_id: str, max_new_tokens: int, capabilities: Capabilities):
        self.client = client
        self.url = url
        self.model_id = model_id
        self.max_new_tokens = max_new_tokens
        self.capabilities = capabilities
        self.device = "server"
        self.scoring_note = ""
        self.choice = ConstrainedChoice(capabilities.chat_only)

    @classmethod
    def connect(cls, settings: LabSettings) -> "OpenAIGenerator":
        """Reach the server, pick the model, and find out whether it completes and scores."""
        url = (settings.generator_url or "").rstrip("/")
        if not url:
            raise ModelLoadError(
                "The openai backend needs a server: set generator_url (RAGLAB_GENERATOR_URL or --generator-url), "
                "for example http://127.0.0.1:8000/v1."
            )
        client = open_client(settings, url, settings.generator_timeout_s, settings.generator_retries)
        shown = redacted_url(url)
        served = list_models(client, shown)
        model = served[0] if settings.generator == EMBEDDED_GENERATOR and served else settings.generator
        if served and model not in served:
            raise ModelLoadError(
                f"The server at {shown} does not serve model {model!r}; it serves: {', '.join(served)}. "
                "Set generator (RAGLAB_GENERATOR or --generator) to one of them."
            )
        probe = cls(client, shown, model, settings.max_new_tokens, Capabilities(False, False, False, True))
        chat_only = not probe._offers_completions()
        can_score, probe.scoring_note = False, "chat only: no prompt log-probabilities"
        if not chat_only:
            can_score, probe.scoring_note = probe._echo_scoring(settings.generator_scoring)
        probe.capabilities = Capabilities(can_score=can_score, chat_only=chat_only, measures_kv=False, concurrent=True)
        probe.choice = ConstrainedChoice(chat_only)
        log.info("Generator %s at %s: chat_only=%s, %s", model, shown, chat_only, probe.scoring_note)
        return probe

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model_id,
            "url": self.url,
            "device": self.device,
            "capabilities": self.capabilities.to_dict(),
            "scoring": self.scoring_note,
            "choice_route": self.choice.route,
        }

    def count_tokens(self, text: str) -> int:
        """An estimate, four characters a token: the OpenAI API exposes no tokenizer."""
        return max(1, round(len(text) / 4))

    def generate(self, prompt: str, stop: Sequence[str] = ("\n",), max_new_tokens: int | None = None) -> Generation:
        started = time.perf_counter()
        limit = max_new_tokens or self.max_new_tokens
        text, usage = self._complete(prompt, limit, stop=list(stop)[:4] or None)
        for marker in stop:
            text = text.split(marker, 1)[0]
        return Generation(
            text=text.strip(),
            prompt_tokens=usage.prompt_tokens if usage else self.count_tokens(prompt),
            new_tokens=usage.completion_tokens if usage else self.count_tokens(text),
            kv_bytes=None,
            kv_bytes_theory=None,
            ms=(time.perf_counter() - started) * 1000,
        )

    def score(self, prompt: str, continuations: Sequence[str]) -> Scores:
        started = time.perf_counter()
        if self.capabilities.can_score:
            values = [self._continuation_logprob(prompt, c) for c in continuations]
            return Scores(values, "likelihood", self.count_tokens(prompt), (time.perf_counter() - started) * 1000)
        if len(continuations) < 2:
            return Scores([0.0] * len(continuations), "unscored", self.count_tokens(prompt), 0.0)
        width = max(self.count_tokens(c) for c in continuations) + 4
        chosen, route = self.choice.choose(self._text, prompt, continuations, width)
        ms = (time.perf_counter() - started) * 1000
        return choice_scores(len(continuations), chosen, route, self.count_tokens(prompt), ms)

    def _complete(self, prompt: str, max_tokens: int, **extra: Any) -> tuple[str, Any]:
        if self.capabilities.chat_only:
            messages = [{"role": "system", "content": CHAT_SYSTEM}, {"role": "user", "content": prompt}]
            response = self._call(
                self.client.chat.completions.create,
                model=self.model_id,
                messages=messages,
                max_tokens=max_tokens,
                temperature=0,
                **extra,
            )
            return response.choices[0].message.content or "", response.usage
        response = self._call(
            self.client.completions.create,
            model=self.model_id,
            prompt=prompt,
            max_tokens=max_tokens,
            temperature=0,
            **extra,
        )
        return response.choices[0].text or "", response.usage

    def _text(self, prompt: str, max_tokens: int, **extra: Any) -> str:
        return self._complete(prompt, max_tokens, **extra)[0]

    def _continuation_logprob(self, prompt: str, continuation: str) -> float:
        """Sum of the echoed log-probabilities of the tokens that start at or after the prompt's end."""
        response = self._call(
            self.client.completions.create,
            model=self.model_id,
            prompt=prompt + continuation,
            max_tokens=1,
            temperature=0,
            echo=True,
            logprobs=1,
        )
        logprobs = response.choices[0].logprobs
        echoed = len(logprobs.tokens) - (response.usage.completion_tokens if response.usage else 1)
        return float(
            sum(
                value
                for offset, value in zip(logprobs.text_offset[:echoed], logprobs.token_logprobs[:echoed])
                if offset >= len(prompt) and value is not None
            )
        )

    def _offers_completions(self) -> bool:
        try:
            self._call(
                self.client.with_options(max_retries=0).completions.create,
                model=self.model_id,
                prompt="Hello",
                max_tokens=1,
                temperature=0,
            )
        except GeneratorUnavailable as error:
            if isinstance(error.__cause__, (openai.NotFoundError, openai.BadRequestError)):
                return False
            raise
        return True

    def _echo_scoring(self, mode: str) -> tuple[bool, str]:
        """Whether to score by echoed log-probabilities, and why, from one timed probe."""
        if mode == "choice":
            return False, "constrained choice (generator_scoring = choice)"
        started = time.perf_counter()
        try:
            response = self._call(
                self.client.with_options(max_retries=0).completions.create,
                model=self.model_id,
                prompt=PROBE_TEXT,
                max_tokens=1,
                temperature=0,
                echo=True,
                logprobs=1,
            )
        except GeneratorUnavailable as error:
            if isinstance(error.__cause__, openai.APIStatusError):
                status = error.__cause__.status_code
                return False, f"constrained choice: the server returns no prompt log-probabilities (HTTP {status})"
            raise
        logprobs = response.choices[0].logprobs
        if not (logprobs and logprobs.token_logprobs and any(v is not None for v in logprobs.token_logprobs[:-1])):
            return False, "constrained choice: the server returns no prompt log-probabilities"
        ms_per_token = (time.perf_counter() - started) * 1000 / max(len(logprobs.token_logprobs), 1)
        if mode == "auto" and ms_per_token > ECHO_MS_PER_TOKEN_LIMIT:
            return False, f"constrained choice: prompt log-probabilities take {ms_per_token:.0f} ms a token"
        return True, f"echoed log-probabilities ({ms_per_token:.1f} ms a token)"

    def _call(self, method: Callable[..., Any], **request: Any) -> Any:
        try:
            return method(**request)
        except openai.APIStatusError as error:
            raise GeneratorUnavailable(
                f"The generator server at {self.url} answered HTTP {error.status_code} for model "
                f"{self.model_id!r}: {_message(error)}"
            ) from error
        except (openai.APIConnectionError, openai.APITimeoutError) as error:
            raise GeneratorUnavailable(
                f"No answer from the generator server at {self.url} ({type(error).__name__}); start it, or fix "
                "generator_url (RAGLAB_GENERATOR_URL or --generator-url)."
            ) from error


def open_client(settings: LabSettings, url: str, timeout_s: float, retries: int) -> openai.OpenAI:
    """A client for `url`; the key, read now from the environment variable the settings name, stays in the client."""
    key = os.environ.get(settings.generator_key_env) or "no-key"
    return openai.OpenAI(base_url=url, api_key=key, timeout=timeout_s, max_retries=retries)


def list_models(client: openai.OpenAI, url: str) -> list[str]:
    """The model ids the server lists; an empty list where it lists none."""
    try:
        return [model.id for model in client.models.list()]
    except openai.NotFoundError:
        return []
    except openai.APIStatusError as error:
        raise ModelLoadError(
            f"The generator server at {url} answered HTTP {error.status_code}: {_message(error)}"
        ) from error
    except (openai.APIConnectionError, openai.APITimeoutError) as error:
        raise ModelLoadError(
            f"Cannot reach a generator server at {url} ({type(error).__name__}). Start it (README: "
            "'Serving on GPUs') or fix generator_url (RAGLAB_GENERATOR_URL or --generator-url)."
        ) from error


def redacted_url(url: str) -> str:
    """The URL as a trace or report may show it: no user, password or query string, where a key could hide."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _message(error: openai.APIStatusError) -> str:
    body = error.body if isinstance(error.body, dict) else {}
    detail = body.get("message") or body.get("detail") or body.get("error") or str(error)
    return str(detail)[:300]
