"""Marks each test by what it starts outside the pytest process: a browser, a server, a child process.

`make test-fast` runs the tests that start none of them. The marks are read from the code a test runs
(its body, its fixtures and the helpers in tests/ those call), not written by hand, so a new test that
drives Chromium, serves the lab or runs `python -m app.cli` leaves the fast set without anyone
remembering to mark it. `slow` is the one mark written by hand: in-process tests too long for the fast set. The marks are
registered, with their meaning, in pyproject.toml.
"""

import inspect
import types
from collections.abc import Iterator

import pytest


STARTS = {
    "browser": {"sync_playwright", "chromium"},
    "server": {"raglab_server", "lab_server", "LlamaCppServer", "llama_server"},
    "subprocess": {"subprocess"},
}
"""A mark, and the names (in code, or of fixtures) that show a test starts what the mark says."""


def mark_by_what_runs(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for function in _code_of(item):
            names |= _names_reached(function, set())
        for mark, shown_by in STARTS.items():
            if names & shown_by:
                item.add_marker(mark)


def _code_of(item: pytest.Item) -> Iterator[types.FunctionType]:
    if isinstance(function := getattr(item, "function", None), types.FunctionType):
        yield function
    fixture_info = getattr(item, "_fixtureinfo", None)
    for definitions in (fixture_info.name2fixturedefs.values() if fixture_info else ()):
        for definition in definitions:
            if isinstance(fixture := inspect.unwrap(definition.func), types.FunctionType):
                yield fixture


def _names_reached(function: types.FunctionType, seen: set[object]) -> set[str]:
    """Every global name `function` uses, and those of the tests/ helpers it calls, transitively."""
    seen.add(function)
    names: set[str] = set()
    for code in _nested(function.__code__):
        for name in code.co_names:
            names |= set(name.split("."))
            helper = function.__globals__.get(name)
            for inner in _functions_of(helper):
                if inner not in seen and inner.__module__.startswith("tests."):
                    names |= _names_reached(inner, seen)
    return names


def _nested(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _nested(constant)


def _functions_of(helper: object) -> list[types.FunctionType]:
    if isinstance(helper, types.FunctionType):
        return [helper]
    if isinstance(helper, type):
        return [inspect.unwrap(member) for member in vars(helper).values()
                if isinstance(inspect.unwrap(member), types.FunctionType)]
    return []
