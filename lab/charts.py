"""Plotly figures shared by the web lab and reports; they take records, never models."""

import plotly.graph_objects as go

from lab.contracts import Answer


def stage_latency_chart(answers: list[Answer]) -> go.Figure:
    """One horizontal bar per strategy, stacked by stage, so where the time goes is visible at a glance."""
    figure = go.Figure()
    stage_names = list(dict.fromkeys(s.name for a in answers for s in a.trace.stages))
    for stage_name in stage_names:
        figure.add_bar(
            name=stage_name,
            orientation="h",
            y=[a.strategy for a in answers],
            x=[sum(s.ms for s in a.trace.stages if s.name == stage_name) for a in answers],
            hovertemplate="%{y} · " + stage_name + ": %{x:.0f} ms<extra></extra>",
        )
    figure.update_layout(
        barmode="stack", xaxis_title="milliseconds", height=120 + 40 * len(answers), margin=dict(l=10, r=10, t=30, b=10)
    )
    return figure
