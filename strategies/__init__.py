"""The strategy registry: built-ins listed here, plus strategies other packages install.

A literal list keeps the UI order fixed and runs nothing on import. Another package adds a
strategy by declaring an entry point in the group `raglab.strategies` that names its class.
"""

import logging
from importlib.metadata import entry_points

from lab.contracts import Strategy
from strategies.traditional import TraditionalRAG

log = logging.getLogger(__name__)

BUILT_IN: tuple[type, ...] = (TraditionalRAG,)
ENTRY_POINT_GROUP = "raglab.strategies"


class UnknownStrategy(LookupError):
    pass


def available_strategies() -> dict[str, type]:
    """Built-ins first, then installed plugins; a plugin cannot shadow a built-in name."""
    found: dict[str, type] = {cls.name: cls for cls in BUILT_IN}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = entry.load()
        except Exception as error:  # a broken plugin must not take the lab down
            log.warning("Strategy plugin %s could not be loaded: %s", entry.value, error)
            continue
        if getattr(cls, "name", None) in found:
            log.warning("Strategy plugin %s reuses the name %r; ignored", entry.value, cls.name)
            continue
        found[cls.name] = cls
    return found


def get_strategy(name: str) -> Strategy:
    known = available_strategies()
    if name not in known:
        raise UnknownStrategy(
            f"No strategy {name!r}; known: {', '.join(known)}. "
            f"Built-ins are listed in strategies/__init__.py; plugins register the entry point {ENTRY_POINT_GROUP!r}."
        )
    return known[name]()
