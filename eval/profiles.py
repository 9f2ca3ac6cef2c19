"""Profiles: the configuration a tuning search chose for some strategies, saved by name in the lab home.

A profile holds, per strategy, its `Params` values and the lab settings it answers with (`top_k`,
`answer_mode`). A run key `graph:my-kb` answers with profile `my-kb`'s configuration for `graph`, so a
comparison or an evaluation shows the tuned strategy beside its defaults under names that say which is which.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.context import Strategy
from lab.core import LabSettings
from strategies import get_strategy, split_profile

PROFILE_SETTINGS = ("top_k", "answer_mode")
"""The lab settings a profile may set per strategy; every other setting stays the user's."""
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class ProfileError(ValueError):
    pass


@dataclass(frozen=True)
class Configuration:
    """One strategy's parameters and the lab settings it answers with."""

    params: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    name: str
    strategies: dict[str, Configuration]
    made_by: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per strategy, how its configuration was chosen: knowledge base, QA file, trials, held-out figures."""


def check_profile_name(name: str) -> str:
    if not PROFILE_NAME.fullmatch(name):
        raise ProfileError(
            f"Profile name {name!r} is not usable: use letters, digits, '-', '_' or '.', starting with a letter or "
            "digit, at most 64 characters (e.g. my-kb)."
        )
    return name


def profile_path(home: Path, name: str) -> Path:
    return home / "profiles" / f"{check_profile_name(name)}.json"


def saved_profiles(home: Path) -> list[str]:
    folder = home / "profiles"
    return sorted(path.stem for path in folder.glob("*.json")) if folder.is_dir() else []


def load_profile(home: Path, name: str) -> Profile:
    """The saved profile, or an error naming the profiles there are and how to make one."""
    path = profile_path(home, name)
    if not path.is_file():
        known = ", ".join(saved_profiles(home)) or "none yet"
        raise ProfileError(
            f"No profile {name!r} in {home / 'profiles'} (saved: {known}). Make one with: "
            f"raglab tune --qa FILE --kb KB --profile {name}"
        )
    try:
        raw = json.loads(path.read_text())
        strategies = {
            strategy: Configuration(dict(entry.get("params", {})), dict(entry.get("settings", {})))
            for strategy, entry in raw["strategies"].items()
        }
    except (json.JSONDecodeError, KeyError, AttributeError, TypeError) as error:
        raise ProfileError(f"Profile file {path} is not a profile ({error}); delete it and tune again.") from None
    for strategy, configuration in strategies.items():
        if unknown := set(configuration.settings) - set(PROFILE_SETTINGS):
            raise ProfileError(
                f"Profile {name!r} sets {', '.join(sorted(unknown))} for {strategy!r}; a profile may set only "
                f"{', '.join(PROFILE_SETTINGS)}. Edit {path} or tune again."
            )
    return Profile(name, strategies, dict(raw.get("made_by", {})))


def save_profile(home: Path, name: str, strategy: str, configuration: Configuration, made_by: dict[str, Any]) -> Path:
    """Add or replace one strategy's configuration in profile `name`, keeping the others it holds."""
    path = profile_path(home, name)
    current = load_profile(home, name) if path.is_file() else Profile(name, {})
    strategies = {**current.strategies, strategy: configuration}
    record = {
        "strategies": {key: {"params": value.params, "settings": value.settings} for key, value in strategies.items()},
        "made_by": {**current.made_by, strategy: made_by},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return path


def profile_configuration(key: str, home: Path) -> Configuration:
    """The configuration a `strategy:profile` key names; the defaults (an empty one) for a plain name."""
    name, profile_name = split_profile(key)
    if profile_name is None:
        return Configuration()
    profile = load_profile(home, profile_name)
    if name not in profile.strategies:
        raise ProfileError(
            f"Profile {profile_name!r} has no configuration for {name!r} (it has: {', '.join(profile.strategies)}). "
            f"Tune it with: raglab tune --strategies {name} --profile {profile_name} ..."
        )
    return profile.strategies[name]


def configured_strategy(key: str, settings: LabSettings) -> tuple[Strategy, LabSettings]:
    """The strategy a name or a `strategy:profile` key stands for, and the settings it answers with."""
    return configured(split_profile(key)[0], profile_configuration(key, settings.home), settings)


def configured(name: str, configuration: Configuration, settings: LabSettings) -> tuple[Strategy, LabSettings]:
    """Strategy `name` built with the configuration's parameters, and the settings updated by its own."""
    return get_strategy(name, **configuration.params), settings.model_copy(update=configuration.settings)


def tuned_keys(strategy_names: list[str], home: Path, profile_name: str) -> list[str]:
    """Each strategy the profile configures as `strategy:profile`, the others unchanged: what `--profile` runs."""
    configured = load_profile(home, profile_name).strategies
    return [f"{name}:{profile_name}" if name in configured else name for name in strategy_names]


def profiles_used(keys: list[str], home: Path) -> dict[str, dict[str, Any]]:
    """For a run's manifest: each profile key's configuration and how it was chosen, so its report can say so."""
    used = {}
    for key in keys:
        name, profile_name = split_profile(key.rpartition("/")[2].partition("@")[0])
        if profile_name:
            profile = load_profile(home, profile_name)
            configuration = profile.strategies.get(name, Configuration())
            used[key] = {"params": configuration.params, "settings": configuration.settings,
                         "made_by": profile.made_by.get(name, {})}
    return used


def beside_tuned(strategy_names: list[str], home: Path, profile_name: str) -> list[str]:
    """Each strategy, followed by itself as the profile configures it where it does: a side-by-side of both."""
    configured = load_profile(home, profile_name).strategies
    return [key for name in strategy_names for key in ([name, f"{name}:{profile_name}"] if name in configured else [name])]


def display_name(key: str) -> str:
    """`graph:my-kb` as "graph (tuned: my-kb)"; any other key as it is."""
    name, profile_name = split_profile(key)
    return f"{name} (tuned: {profile_name})" if profile_name else key
