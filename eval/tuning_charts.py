"""The charts a search is read by, drawn from its stored trials with Optuna's own plotly figures: the objective
by trial (with the best so far), which parameters mattered (fANOVA importances, Hutter et al., 2014), and a
parallel-coordinates view of every configuration tried."""

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
