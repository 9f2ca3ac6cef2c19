"""The charts a search is read by, drawn from its stored trials with Optuna's own plotly figures: the objective
by trial (with the best so far), which parameters mattered (fANOVA importances, Hutter et al., 2014), and a
parallel-coordinates view of every configuration tried."""

import html
import json
from typing import Any

FIGURE_HEIGHT = 420


def search_figures(study: Any) -> list[tuple[str, Any]]:
    """(title, figure) in reading order; where a chart cannot be drawn yet, (title, the reason as a sentence)."""
    import optuna
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    varied = {name for trial in complete for name in trial.params if len({str(t.params.get(name)) for t in complete}) > 1}
    charts: list[tuple[str, Any]] = [("Objective by trial", optuna.visualization.plot_optimization_history(study))]
    if len(complete) < 2 or not varied:
        reason = "Needs two finished trials that differ in some parameter."
        charts += [("Parameter importances", reason), ("Configurations tried", reason)]
    else:
        charts += [
            ("Parameter importances", optuna.visualization.plot_param_importances(study)),
            ("Configurations tried", optuna.visualization.plot_parallel_coordinate(study)),
        ]
    for _, figure in charts:
        if not isinstance(figure, str):
            figure.update_layout(height=FIGURE_HEIGHT, title=None, margin=dict(l=10, r=10, t=30, b=10))
    return charts


def tuning_sections(profiles: dict[str, dict[str, Any]], plotly_included: bool) -> list[str]:
    """HTML of how each profile key of a run was tuned: its configuration, the held-out table and verdict, and
    the search's charts when its study is on this machine. Every value is escaped: a profile file is input."""
    from eval.tuning import load_search

    parts: list[str] = []
    for key, used in profiles.items():
        made_by, held_out = used.get("made_by", {}), used.get("made_by", {}).get("held_out", {})
        configuration = {**used.get("params", {}), **used.get("settings", {})}
        parts += [f"<h2>How {html.escape(key)} was tuned</h2>",
                  f"<p>Configuration: <code>{html.escape(json.dumps(configuration))}</code>, chosen in "
                  f"{html.escape(str(made_by.get('trials', '?')))} trials on {html.escape(str(made_by.get('qa', '?')))}.</p>"]
        if held_out:
            verdict = f"{made_by.get('choice', '')} {held_out.get('verdict', '')}"
            parts.append(f"<p>{html.escape(verdict)}</p><table><tr><th>held out</th><th>F1</th>"
                         "<th>95% CI</th><th>recall@k</th><th>95% CI</th><th>s/question</th></tr>")
            for label in ("default", "tuned"):
                row = held_out.get(label, {})
                cells = [row.get("answer_f1"), row.get("answer_f1_ci"), row.get("recall_at_k"), row.get("recall_at_k_ci"),
                         row.get("seconds_per_question")]
                parts.append(f"<tr><td>{label}</td>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
            parts.append("</table>")
        try:
            study = load_search(made_by["storage"], made_by["study"])
        except Exception as error:  # the search may have run on another machine; the report still renders
            parts.append(f"<p>The search's trials are not readable here ({html.escape(type(error).__name__)}): no charts.</p>")
            continue
        for title, figure in search_figures(study):
            parts.append(f"<h3>{html.escape(title)}</h3>")
            parts.append(f"<p>{html.escape(figure)}</p>" if isinstance(figure, str) else figure.to_html(
                full_html=False, include_plotlyjs=not plotly_included, config={"displaylogo": False}))
            plotly_included = plotly_included or not isinstance(figure, str)
    return parts
