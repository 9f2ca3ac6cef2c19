"""Strategy parameters: validated with a message that names the parameter and its range, and described.

Each strategy declares its parameters as a nested pydantic `Params` model with defaults and bounds
(`Field(ge=..., le=...)`). pydantic does the checking; this module turns its errors into one sentence
a user can act on, and lists the parameters for `raglab strategies` and the UI.
"""

from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo


BUDGET = {"search": False}
"""`json_schema_extra` of a budget parameter (tokens, seconds): a tuning search leaves it as it is, since a larger
budget is not a better configuration, only a slower one (`eval.search_space`)."""


class InvalidStrategyParams(ValueError):
    pass


def allowed_range(info: FieldInfo) -> str:
    """The values a field accepts, in words: "1 to 4", "at least 2", "true or false"."""
    low = high = None
    for constraint in info.metadata:
        if isinstance(constraint, annotated_types.Ge | annotated_types.Gt):
            low = f"{constraint.ge}" if isinstance(constraint, annotated_types.Ge) else f"above {constraint.gt}"
        if isinstance(constraint, annotated_types.Le | annotated_types.Lt):
            high = f"{constraint.le}" if isinstance(constraint, annotated_types.Le) else f"below {constraint.lt}"
    if info.annotation is bool:
        return "true or false"
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return getattr(info.annotation, "__name__", str(info.annotation))


def build_params(strategy: type, values: dict[str, Any]) -> BaseModel:
    """The strategy's `Params` from `values`, or an error naming each bad parameter and its range."""
    fields = strategy.Params.model_fields
    try:
        return strategy.Params(**values)
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            field = str(issue["loc"][0]) if issue["loc"] else ""
            if field not in fields:
                known = ", ".join(fields) or "none"
                problems.append(f"{field!r} is not a parameter of {strategy.name!r} (its parameters: {known})")
            else:
                problems.append(
                    f"parameter {field!r} of {strategy.name!r} accepts {allowed_range(fields[field])}; "
                    f"got {issue.get('input')!r}"
                )
        raise InvalidStrategyParams("; ".join(problems) + ". See `raglab strategies`.") from None


def describe_strategy(strategy: type) -> dict[str, Any]:
    """Name, description, parameters with defaults and ranges, and stage names with default parameters."""
    parameters = [
        {
            "name": name,
            "type": getattr(info.annotation, "__name__", str(info.annotation)),
            "default": info.default,
            "range": allowed_range(info),
            "description": info.description or "",
        }
        for name, info in strategy.Params.model_fields.items()
    ]
    return {
        "name": strategy.name,
        "description": (strategy.description or "").strip(),
        "parameters": parameters,
        "stages": list(strategy().stages),
    }
