"""What a tuning search may change: a strategy's declared parameters and the lab settings a profile holds.

A parameter is searched over its declared range (`Field(ge=..., le=...)`). A field narrows that range
with `json_schema_extra={"search": (low, high)}`, or leaves the search with `{"search": False}`: budgets
such as a time limit, where more is not a better configuration, only a slower one. Integer ranges wider
than `LOG_SCALE_SPAN` are searched on a log scale, so 1 to 10 gets as many trials as 100 to 1000.
"""

import typing
from dataclasses import dataclass
from typing import Any

import annotated_types
from pydantic.fields import FieldInfo

from eval.profiles import Configuration

LOG_SCALE_SPAN = 100
SETTINGS_SEARCHED: dict[str, tuple] = {"top_k": (1, 10), "answer_mode": ("generate", "select")}
"""`top_k` from 1 to 10: ten 256-token chunks and the prompt fill most of the 4,096-token window the llama-cpp
backend allocates. Both ways of reading passages are tried."""


class SearchSpaceError(ValueError):
    pass


@dataclass(frozen=True)
class Dimension:
    """One searched value: a strategy parameter (`in_settings` False) or a lab setting."""

    name: str
    in_settings: bool
    kind: str  # "int", "float" or "choice"
    low: float = 0
    high: float = 0
    log: bool = False
    choices: tuple = ()

    def suggest(self, trial: Any) -> Any:
        """The trial's value for this dimension, drawn by its sampler (an `optuna.Trial`)."""
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log)
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high)
        return trial.suggest_categorical(self.name, list(self.choices))


def search_space(strategy: type) -> list[Dimension]:
    """The dimensions a search over `strategy` varies: its searchable parameters, then the settings."""
    dimensions = [d for name, info in strategy.Params.model_fields.items() if (d := _parameter_dimension(name, info))]
    clash = {d.name for d in dimensions} & set(SETTINGS_SEARCHED)
    if clash:
        raise SearchSpaceError(f"{strategy.name!r} has parameters named like lab settings ({', '.join(clash)}); rename them.")
    top_k_low, top_k_high = SETTINGS_SEARCHED["top_k"]
    return [*dimensions, Dimension("top_k", True, "int", top_k_low, top_k_high),
            Dimension("answer_mode", True, "choice", choices=SETTINGS_SEARCHED["answer_mode"])]


def configuration_of(values: dict[str, Any], dimensions: list[Dimension]) -> Configuration:
    """A trial's values split into strategy parameters and settings, as a profile stores them."""
    settings_names = {d.name for d in dimensions if d.in_settings}
    return Configuration(
        params={name: value for name, value in values.items() if name not in settings_names},
        settings={name: value for name, value in values.items() if name in settings_names},
    )


def default_values(strategy: type, dimensions: list[Dimension], settings_values: dict[str, Any]) -> dict[str, Any]:
    """The defaults as a trial's values: the strategy's declared defaults and the user's settings."""
    defaults = strategy.Params()
    return {d.name: settings_values[d.name] if d.in_settings else getattr(defaults, d.name) for d in dimensions}


def _parameter_dimension(name: str, info: FieldInfo) -> Dimension | None:
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    declared = extra.get("search", True)
    if declared is False:
        return None
    if info.annotation is bool:
        return Dimension(name, False, "choice", choices=(True, False))
    if typing.get_origin(info.annotation) is typing.Literal:
        return Dimension(name, False, "choice", choices=typing.get_args(info.annotation))
    if info.annotation not in (int, float):
        return None
    low, high = declared if isinstance(declared, tuple | list) else _declared_bounds(info)
    if low is None or high is None:
        return None
    if info.annotation is int:
        return Dimension(name, False, "int", low, high, log=low >= 1 and high - low > LOG_SCALE_SPAN)
    return Dimension(name, False, "float", float(low), float(high))


def _declared_bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    low = high = None
    for constraint in info.metadata:
        if isinstance(constraint, annotated_types.Ge):
            low = constraint.ge
        if isinstance(constraint, annotated_types.Le):
            high = constraint.le
    return low, high
