"""A decision among labelled options on a server that returns no log-probabilities: a constrained choice.

The server is asked to write one of the options, held to them by the first route it honours:
vLLM's `guided_choice`, a llama.cpp grammar, a JSON-schema response format (OpenAI, Ollama, vLLM,
llama.cpp), and, as the last resort, free text matched against the options. A route a server refuses
(400/422) or ignores (its text names no option exactly) is skipped; the first that works is kept for
every later decision, so the probing costs a few requests once per connection.
"""

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import openai

log = logging.getLogger(__name__)

ROUTES = ("guided_choice", "grammar", "json_schema", "parsed_text")
CHAT_ROUTES = ("json_schema", "parsed_text")

Complete = Callable[..., str]
"""`complete(prompt, max_tokens, **request)`: the server's text, from completions or chat."""


class ConstrainedChoice:
    def __init__(self, chat_only: bool):
        self.chat_only = chat_only
        self.route: str | None = None

    def choose(self, complete: Complete, prompt: str, options: Sequence[str], width: int) -> tuple[int | None, str]:
        """The index of the option the server picks (None if its text named none), and the route taken."""
        routes = [self.route] if self.route else list(CHAT_ROUTES if self.chat_only else ROUTES)
        for route in routes:
            try:
                chosen = _choose_by(route, complete, prompt, [o.strip() for o in options], width)
            except (openai.BadRequestError, openai.UnprocessableEntityError, json.JSONDecodeError) as error:
                log.info("Choice route %s refused: %s", route, error)
                continue
            if chosen is not None or route == "parsed_text":
                self.route = route
                return chosen, route
        return None, "parsed_text"


def _choose_by(route: str, complete: Complete, prompt: str, labels: list[str], width: int) -> int | None:
    request: dict[str, Any]
    if route == "guided_choice":
        request = {"extra_body": {"guided_choice": labels}}
    elif route == "grammar":
        request = {"extra_body": {"grammar": "root ::= " + " | ".join(json.dumps(label) for label in labels)}}
    elif route == "json_schema":
        schema = {"type": "object", "properties": {"choice": {"enum": labels}}, "required": ["choice"]}
        request = {"response_format": {"type": "json_schema", "json_schema": {"name": "choice", "schema": schema}}}
        width += 16
    else:
        request = {"stop": ["\n"]}
    text = complete(prompt, width, **request)
    if route == "json_schema":
        text = str(json.loads(text).get("choice", ""))
    return matching_label(text, labels, exact=route != "parsed_text")


def matching_label(text: str, labels: Sequence[str], exact: bool) -> int | None:
    said = text.strip().strip('"').strip().lower()
    for i, label in enumerate(labels):
        if said == label.lower() or (not exact and said.startswith(label.lower())):
            return i
    return None
