"""Plotly figures of answers for the web lab; they take records, never models."""

import html

import plotly.graph_objects as go

from eval.palette import stage_color
from lab.core import Answer


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
            marker_color=stage_color(stage_name),
            hovertemplate="%{y} · " + stage_name + ": %{x:.0f} ms<extra></extra>",
        )
    figure.update_layout(
        barmode="stack", xaxis_title="milliseconds", height=120 + 40 * len(answers), margin=dict(l=10, r=10, t=30, b=10)
    )
    return figure


def stage_timeline(answer: Answer) -> go.Figure:
    """Gantt-style bars: each stage from where the previous one ended, in the order they ran."""
    figure = go.Figure()
    start = 0.0
    for stage in answer.trace.stages:
        figure.add_bar(
            y=[stage.name], x=[stage.ms], base=[start], orientation="h", name=stage.name, showlegend=False,
            marker_color=stage_color(stage.name),
            hovertemplate=f"{stage.name}: {stage.ms:.0f} ms (from {start:.0f} ms)<extra></extra>",
        )
        start += stage.ms
    figure.update_layout(
        xaxis_title="milliseconds since the question", yaxis=dict(autorange="reversed"),
        height=80 + 28 * len(answer.trace.stages), margin=dict(l=10, r=10, t=10, b=10),
    )
    return figure


SWIMLANE_CAPTION = (
    "One lane per agent: bars are its steps (hover for ms and LLM calls), arrows the messages it sent; "
    "the researchers run one after another on the one generator."
)


def agent_swimlanes(answer: Answer) -> go.Figure:
    """A team's trace as swim lanes: each agent's steps on its own row, each message an arrow between rows.

    Lanes are in the order the agents first worked; each lane's label carries its time and LLM calls
    (generations and scoring calls). A step too short to see is drawn 0.5% of the run wide; its hover keeps
    the measured time. Messages quote proposals, which are corpus text, so their hover text is escaped.
    """
    trace = answer.trace
    agents = list(dict.fromkeys(event.agent for event in trace.lanes))
    row = {agent: position for position, agent in enumerate(agents)}
    span_ms = max((event.end_ms for event in trace.lanes), default=1.0)
    figure = go.Figure()
    shown: set[str] = set()
    for event in trace.lanes:
        ms = event.end_ms - event.start_ms
        figure.add_bar(
            y=[row[event.agent]], x=[max(ms, span_ms * 0.005)], base=[event.start_ms], orientation="h",
            name=event.activity, legendgroup=event.activity, showlegend=event.activity not in shown,
            marker_color=stage_color(event.activity),
            hovertemplate=(f"{html.escape(event.agent)} · {html.escape(event.activity)}: {ms:.0f} ms, "
                           f"{event.llm_calls} generations, {event.scoring_calls} scoring calls<extra></extra>"),
        )
        shown.add(event.activity)
    heads_x, heads_y, heads_text = [], [], []
    for number, message in enumerate(trace.messages):
        if message.sender not in row or message.recipient not in row:
            continue
        at_ms = message.at_ms + span_ms * 0.004 * (number % 4)
        figure.add_annotation(
            x=at_ms, y=row[message.recipient], ax=at_ms, ay=row[message.sender], xref="x", yref="y", axref="x",
            ayref="y", text="", showarrow=True, arrowhead=2, arrowwidth=1.2, arrowcolor="#555",
        )
        heads_x.append(at_ms)
        heads_y.append(row[message.recipient])
        heads_text.append(html.escape(f"{message.sender} → {message.recipient}: {message.text}"))
    figure.add_scatter(
        x=heads_x, y=heads_y, mode="markers", marker=dict(size=7, color="#555"), name="message",
        hovertext=heads_text, hoverinfo="text",
    )
    labels = []
    for agent in agents:
        events = [event for event in trace.lanes if event.agent == agent]
        seconds = sum(event.end_ms - event.start_ms for event in events) / 1000
        calls = sum(event.llm_calls + event.scoring_calls for event in events)
        labels.append(f"{html.escape(agent)}<br>{seconds:.1f} s · {calls} LLM calls")
    figure.update_layout(
        barmode="overlay", xaxis=dict(title="milliseconds since the question", range=[0, span_ms * 1.02]),
        yaxis=dict(tickvals=list(range(len(agents))), ticktext=labels, autorange="reversed"),
        legend=dict(orientation="h", y=-0.25), height=140 + 70 * len(agents), margin=dict(l=10, r=10, t=10, b=10),
    )
    return figure


def kv_cache_chart(answers: list[Answer]) -> go.Figure:
    """KV-cache bytes of every LLM call, measured on the real cache beside the config's prediction.

    Scoring calls that report their cache (an answer selected from candidates is one) count as calls too.
    A call with no figure (a server backend keeps its cache out of sight) has no bar, never a zero.
    """
    labels, measured, theory = [], [], []
    for answer in answers:
        scoring = [call for call in answer.trace.scoring_calls if call.kv_bytes is not None]
        for number, call in enumerate([*answer.trace.llm_calls, *scoring], start=1):
            labels.append(f"{answer.strategy} · {call.stage} #{number}")
            measured.append(None if call.kv_bytes is None else call.kv_bytes / 2**20)
            theory.append(None if call.kv_bytes_theory is None else call.kv_bytes_theory / 2**20)
    figure = go.Figure()
    figure.add_bar(name="measured", x=labels, y=measured)
    figure.add_bar(name="theoretical", x=labels, y=theory)
    figure.update_layout(barmode="group", yaxis_title="MiB", height=360, margin=dict(l=10, r=10, t=30, b=10))
    return figure


def entity_graph_chart(exported: dict, max_nodes: int = 120) -> go.Figure:
    """A node-link export drawn with a spring layout: node size by degree, colour by community.

    Larger graphs are cut to their `max_nodes` best-connected entities, so the picture stays legible.
    Each node carries its key as customdata, so a click can select it. Entity names are corpus text, and
    plotly reads a subset of HTML (links included) in labels, so they are escaped.
    """
    import networkx as nx

    graph = nx.node_link_graph(exported, edges="edges")
    node = {entry["id"]: entry for entry in exported["nodes"]}
    if graph.number_of_nodes() > max_nodes:
        keep = sorted(graph.degree(weight="weight"), key=lambda item: -item[1])[:max_nodes]
        graph = graph.subgraph(k for k, _ in keep)
    positions = nx.spring_layout(graph, seed=0, weight="weight")
    figure = go.Figure()
    edge_x, edge_y = [], []
    for a, b in graph.edges():
        edge_x += [positions[a][0], positions[b][0], None]
        edge_y += [positions[a][1], positions[b][1], None]
    figure.add_scatter(x=edge_x, y=edge_y, mode="lines", line=dict(width=0.6, color="#bbb"), hoverinfo="skip")
    keys = list(graph.nodes())
    degrees = dict(graph.degree(weight="weight"))
    figure.add_scatter(
        x=[positions[k][0] for k in keys], y=[positions[k][1] for k in keys], mode="markers+text",
        text=[html.escape(node[k]["name"]) if degrees[k] >= sorted(degrees.values())[-min(15, len(keys))] else "" for k in keys],
        textposition="top center", customdata=keys,
        hovertext=[html.escape(f"{node[k]['name']} ({node[k]['label']}, community {node[k]['community']})")
                   for k in keys],
        hoverinfo="text",
        marker=dict(
            size=[6 + 3 * min(degrees[k], 12) for k in keys],
            color=[node[k]["community"] if node[k]["community"] is not None else -1 for k in keys],
            colorscale="Turbo", line=dict(width=0.5, color="#333"),
        ),
    )
    figure.update_layout(
        showlegend=False, height=620, margin=dict(l=0, r=0, t=0, b=0),
        xaxis=dict(visible=False), yaxis=dict(visible=False),
    )
    return figure
