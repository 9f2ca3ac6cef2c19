"""One colour per stage and per strategy, the same in every report chart and web-lab chart."""

import zlib

import plotly.colors

_PALETTE = plotly.colors.qualitative.Safe + plotly.colors.qualitative.Pastel


def stage_color(name: str) -> str:
    """The same colour for a stage name in every chart, so "generate" is recognisable at a glance."""
    return _PALETTE[zlib.crc32(name.encode()) % len(_PALETTE)]


def strategy_colors(names: list[str]) -> dict[str, str]:
    """A distinct colour per strategy, in order, from a 24-colour palette: the default ten repeat,
    and with all thirteen built-ins side by side two strategies would share a colour."""
    palette = plotly.colors.qualitative.Dark24
    return {name: palette[i % len(palette)] for i, name in enumerate(names)}
