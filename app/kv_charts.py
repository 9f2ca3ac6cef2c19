"""Plotly figures of the KV-cache lab; each returns the figure and the one-line caption that says what it shows."""

import plotly.graph_objects as go

from app.kv_lab import KVLabReport
from eval.palette import stage_color

MIB = 2**20


def _layout(figure: go.Figure, x_title: str, y_title: str, height: int = 360) -> go.Figure:
    figure.update_layout(xaxis_title=x_title, yaxis_title=y_title, height=height, margin=dict(l=10, r=10, t=30, b=10),
                         legend=dict(orientation="h", y=1.12))
    return figure


def per_token_chart(report: KVLabReport) -> tuple[go.Figure, str]:
    figure = go.Figure()
    for mode, step_ms in report.per_token_ms.items():
        figure.add_scatter(x=list(range(1, len(step_ms) + 1)), y=step_ms, mode="lines", name=mode,
                           line_color=stage_color(mode), hovertemplate="token %{x}: %{y:.0f} ms<extra>" + mode + "</extra>")
    caption = "Milliseconds per generated token by position: flat with the cache, rising without it (each step re-reads the sequence)."
    return _layout(figure, "generated token", "ms per token"), caption


def speedup_chart(report: KVLabReport) -> tuple[go.Figure, str]:
    rows = report.experiment("cache_on_off")
    figure = go.Figure()
    for mode in ("cache on", "cache off"):
        chosen = [row for row in rows if row.mode == mode]
        figure.add_bar(x=[str(row.new_tokens) for row in chosen], y=[row.ms / 1000 for row in chosen], name=mode,
                       marker_color=stage_color(mode), hovertemplate="%{x} tokens: %{y:.1f} s<extra>" + mode + "</extra>")
    speedups = [f"{row.new_tokens}: {row.detail['speedup']:.1f}x" for row in rows if row.mode == "cache on"]
    figure.update_layout(barmode="group")
    caption = "Total time to generate N tokens with and without the cache; speedup " + ", ".join(speedups) + " (seed: 3-5x)."
    return _layout(figure, "new tokens", "seconds"), caption


def memory_chart(report: KVLabReport) -> tuple[go.Figure, str]:
    figure = go.Figure()
    rows = report.experiment("memory")
    for label in dict.fromkeys((row.label, row.mode) for row in rows):
        chosen = [row for row in rows if (row.label, row.mode) == label]
        name = f"{label[0]} · {label[1]}"
        if chosen[0].kv_bytes_measured is not None:
            figure.add_scatter(x=[r.context_tokens for r in chosen], y=[r.kv_bytes_measured / MIB for r in chosen],
                               mode="lines+markers", name=f"{name} measured", line_color=stage_color(name))
        figure.add_scatter(x=[r.context_tokens for r in chosen], y=[r.kv_bytes_theory / MIB for r in chosen],
                           mode="lines", name=f"{name} theory", line=dict(dash="dot", color=stage_color(name)))
    caption = "Cache MiB against prompt length, measured on live caches beside theory; the naive line ignores sliding windows."
    return _layout(figure, "context tokens", "MiB"), caption


def modes_chart(report: KVLabReport) -> tuple[go.Figure, str]:
    rows = [row for row in report.experiment("modes") if row.label == "memory"]
    quality = {row.mode: row for row in report.experiment("modes") if row.label != "memory"}
    figure = go.Figure()
    figure.add_bar(x=[row.mode for row in rows], y=[row.kv_bytes_measured / MIB for row in rows], name="measured",
                   marker_color=[stage_color(row.mode) for row in rows],
                   customdata=[[quality[row.mode].answer_agreement if row.mode in quality else None] for row in rows],
                   hovertemplate="%{x}: %{y:.2f} MiB, answers same %{customdata[0]:.0%}<extra></extra>")
    figure.add_scatter(x=[row.mode for row in rows], y=[row.kv_bytes_theory / MIB for row in rows], mode="markers",
                       name="theory", marker=dict(symbol="line-ew-open", size=28, color="black"))
    context = rows[0].context_tokens if rows else 0
    caption = f"Cache MiB per mode at {context} tokens (theory as a tick); hover for how often answers match dynamic's."
    return _layout(figure, "cache mode", "MiB"), caption


def theory_chart(report: KVLabReport) -> tuple[go.Figure, str]:
    rows = [row for row in report.experiment("theory") if row.mode == "fp16"]
    figure = go.Figure()
    figure.add_bar(x=[row.label for row in rows], y=[row.kv_bytes_theory / 1e9 for row in rows], name="fp16",
                   marker_color=[stage_color(row.label) for row in rows],
                   hovertemplate="%{x}: %{y:.3f} GB<extra></extra>")
    context = rows[0].context_tokens if rows else 0
    figure.add_hline(y=2.0, line_dash="dash", annotation_text="the seed's '7B, 1,000 tokens = 2 GB'")
    caption = f"Theory: fp16 cache of one {context}-token sequence per model, beside the seed's 2 GB claim."
    return _layout(figure, "model", "GB"), caption


def prefix_chart(report: KVLabReport) -> tuple[go.Figure, str]:
    rows = [row for row in report.experiment("prefix_reuse") if row.label != "failed"]
    figure = go.Figure()
    figure.add_bar(x=[row.mode for row in rows], y=[row.detail["ms_without_reuse"] / 1000 for row in rows],
                   name="prompt reading, no reuse", marker_color=stage_color("no reuse"))
    figure.add_bar(x=[row.mode for row in rows], y=[row.ms / 1000 for row in rows], name="with prefix reuse",
                   marker_color=stage_color("with reuse"),
                   customdata=[[row.detail["share"]] for row in rows],
                   hovertemplate="%{x}: %{y:.1f} s, %{customdata[0]:.0%} of prompt tokens shared<extra></extra>")
    figure.update_layout(barmode="group")
    caption = "Seconds spent reading each strategy's prompts, from scratch and reusing the cache of a shared prefix."
    return _layout(figure, "strategy", "seconds"), caption
