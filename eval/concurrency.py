"""Answering several QA items at once against a generator server, without sharing anything unsafely.

A server backend spends most of an item's time waiting for HTTP answers, so items can overlap. The
rest of the lab (spaCy, tokenizers, SQLite, FAISS) was written for one caller at a time. So workers
take turns holding one baton for everything they do, and a generator call hands the baton back while
it waits on the network: local work runs one item at a time, as in a sequential run, and requests
overlap. At temperature 0 the answers are those of a sequential run.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from lab.context import LabContext
from lab.core import Generation, Scores

T = TypeVar("T")


class Baton:
    def __init__(self) -> None:
        self._lock = threading.Lock()

    def run(self, work: Callable[[], T]) -> T:
        with self._lock:
            return work()

    def released_for(self, wait: Callable[[], T]) -> T:
        self._lock.release()
        try:
            return wait()
        finally:
            self._lock.acquire()


class BatonReleasingGenerator:
    """The server generator, handing the baton back for the length of each request."""

    def __init__(self, generator: Any, baton: Baton):
        self._generator = generator
        self._baton = baton

    def __getattr__(self, name: str) -> Any:
        return getattr(self._generator, name)

    def generate(self, prompt: str, stop: Sequence[str] = ("\n",), max_new_tokens: int | None = None) -> Generation:
        return self._baton.released_for(lambda: self._generator.generate(prompt, stop, max_new_tokens))

    def score(self, prompt: str, continuations: Sequence[str]) -> Scores:
        return self._baton.released_for(lambda: self._generator.score(prompt, continuations))


def shared_context(ctx: LabContext, baton: Baton) -> LabContext:
    """The same context, with a generator that lets other items run while it waits."""
    return replace(ctx, generator=BatonReleasingGenerator(ctx.generator, baton))
