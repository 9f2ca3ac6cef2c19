"""Plotly figures of an evaluation run, for the HTML report and the web lab's pages alike.

They take a `RunAnalysis` (records read from the run store), never models or the store itself.
"""

import math

import plotly.graph_objects as go

from eval.palette import stage_color, strategy_colors
from eval.run_analysis import RunAnalysis

_MARGIN = dict(l=10, r=10, t=40, b=10)


def metric_means_chart(analysis: RunAnalysis) -> go.Figure:
    """Grouped bars: each metric's mean per strategy, with its 95% bootstrap interval as error bars."""
    figure = go.Figure()
    colors = strategy_colors(analysis.strategies)
    for strategy in analysis.strategies:
        intervals = [analysis.intervals[strategy][m] for m in analysis.metrics]
        means = [i.mean if i.n else None for i in intervals]
        figure.add_bar(
            name=strategy,
            marker_color=colors[strategy],
            x=analysis.metrics,
            y=means,
            error_y=dict(
                type="data",
                symmetric=False,
                array=[(i.high - i.mean) if i.n else None for i in intervals],
                arrayminus=[(i.mean - i.low) if i.n else None for i in intervals],
            ),
            customdata=[[i.low, i.high, i.n] for i in intervals],
            hovertemplate=f"{strategy} · %{{x}}: %{{y:.3f}} [%{{customdata[0]:.3f}}, %{{customdata[1]:.3f}}], n=%{{customdata[2]}}<extra></extra>",
        )
    figure.update_layout(
        title="Metric means with 95% bootstrap intervals",
        barmode="group",
        yaxis_title="mean over scored items",
        height=460,
        margin=_MARGIN,
    )
    return figure


def paired_comparison_chart(analysis: RunAnalysis) -> go.Figure:
    """Per metric, each strategy's mean per-item difference from the baseline, its interval and p-value."""
    figure = go.Figure()
    colors = strategy_colors(analysis.strategies)
    for strategy, by_metric in analysis.comparisons.items():
        rows = [(m, c) for m, c in by_metric.items() if c.n]
        figure.add_scatter(
            name=strategy,
            marker_color=colors[strategy],
            mode="markers",
            orientation="h",
            offsetgroup=strategy,
            y=[m for m, _ in rows],
            x=[c.mean_difference for _, c in rows],
            error_x=dict(
                type="data",
                symmetric=False,
                array=[c.high - c.mean_difference for _, c in rows],
                arrayminus=[c.mean_difference - c.low for _, c in rows],
            ),
            customdata=[[c.p_value, c.n] for _, c in rows],
            hovertemplate=f"{strategy} − {analysis.baseline} · %{{y}}: %{{x:+.3f}}, p=%{{customdata[0]:.3f}}, n=%{{customdata[1]}}<extra></extra>",
        )
    figure.add_vline(x=0, line_dash="dot")
    figure.update_layout(
        title=f"Paired difference from {analysis.baseline} (permutation p-value on hover)",
        xaxis_title=f"mean per-item difference from {analysis.baseline}",
        scattermode="group",
        yaxis=dict(autorange="reversed"),
        height=140 + max(28, 10 * len(analysis.comparisons)) * len(analysis.metrics),
        margin=_MARGIN,
    )
    return figure


def stage_latency_chart(analysis: RunAnalysis) -> go.Figure:
    """Mean milliseconds per item of each stage, stacked per strategy, over the results that answered."""
    figure = go.Figure()
    stage_names = list(dict.fromkeys(s["name"] for r in analysis.results for s in r.trace.get("stages", [])))
    for stage_name in stage_names:
        means = []
        for strategy in analysis.strategies:
            traces = [r.trace for r in analysis.results if r.strategy == strategy and not r.error]
            total = sum(s["ms"] for t in traces for s in t.get("stages", []) if s["name"] == stage_name)
            means.append(total / len(traces) if traces else 0.0)
        figure.add_bar(
            name=stage_name,
            orientation="h",
            y=analysis.strategies,
            x=means,
            marker_color=stage_color(stage_name),
            hovertemplate="%{y} · " + stage_name + ": %{x:.0f} ms<extra></extra>",
        )
    figure.update_layout(
        title="Mean latency per item, by stage",
        barmode="stack",
        xaxis_title="milliseconds",
        height=160 + 40 * len(analysis.strategies),
        margin=_MARGIN,
    )
    return figure


def kv_cache_chart(analysis: RunAnalysis) -> go.Figure:
    """Every LLM call: measured KV-cache bytes against prompt tokens, one colour per strategy."""
    figure = go.Figure()
    colors = strategy_colors(analysis.strategies)
    for strategy in analysis.strategies:
        calls = [c for r in analysis.results if r.strategy == strategy for c in r.trace.get("llm_calls", [])]
        calls = [c for c in calls if c.get("kv_bytes") is not None and not math.isnan(c["kv_bytes"])]
        figure.add_scatter(
            name=strategy,
            mode="markers",
            marker_color=colors[strategy],
            x=[c["prompt_tokens"] for c in calls],
            y=[c["kv_bytes"] / 1e6 for c in calls],
            customdata=[[c["stage"], c["new_tokens"]] for c in calls],
            hovertemplate=f"{strategy} · %{{customdata[0]}}: %{{x}} prompt tokens, %{{y:.1f}} MB<extra></extra>",
        )
    figure.update_layout(
        title="KV-cache memory against prompt length, per LLM call",
        xaxis_title="prompt tokens",
        yaxis_title="KV cache (MB)",
        height=420,
        margin=_MARGIN,
    )
    return figure


def report_figures(analysis: RunAnalysis) -> list[go.Figure]:
    figures = [metric_means_chart(analysis)]
    if analysis.comparisons:
        figures.append(paired_comparison_chart(analysis))
    return figures + [stage_latency_chart(analysis), kv_cache_chart(analysis)]
