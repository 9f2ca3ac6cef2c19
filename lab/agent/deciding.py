"""How the agent decides: the likeliest of fixed continuations, or a rule when the generator is unsure.

Planning, tool choice, the bridge choice, reflection and verification all decide the same way, so the one
rule (and its calibration cache) lives here, below them, rather than in the loop that calls them.
"""

from collections.abc import Sequence
from functools import lru_cache

from lab.agent.records import Decision
from lab.core.tracing import Trace
from lab.llm.backend import Generator


def decide(
    generator: Generator,
    margin: float,
    prompt: str,
    choices: Sequence[str],
    fallback: str,
    neutral: str = "",
    trace: Trace | None = None,
) -> Decision:
    """The likeliest continuation, unless it leads the next by less than the margin: then the fallback.

    With `neutral`, the same prompt with its content replaced by "N/A", the scores are calibrated: the
    choices' log-likelihood there is subtracted, so a base model's standing preference for one tool name
    does not decide for it (contextual calibration, Zhao et al., 2021). Yes/no judgements are left
    uncalibrated: calibrated, the 270M model turns from undecided (the rule decides) to a confident " no".

    A backend without log-likelihoods answers with a constrained choice (`lab.llm.backend`): there is no
    prior to subtract, and the decision says which route the server took. `trace` keeps every scoring
    call with its path.
    """
    scores = generator.score(prompt, choices)
    if trace is not None:
        trace.record_scores(scores)
    path = scores.path
    if neutral and path == "likelihood":
        prior = _content_free_scores(generator, neutral, tuple(choices))
        scores = [score - bias for score, bias in zip(scores, prior)]
    ranked = sorted(zip(scores, choices), reverse=True)
    lead = ranked[0][0] - ranked[1][0] if len(ranked) > 1 else float("inf")
    how = "generator" if path == "likelihood" else f"generator, {path} choice"
    if lead < margin:
        return Decision(fallback, f"rule ({how}: lead {lead:.2f} nats)")
    return Decision(ranked[0][1], f"{how} (lead {lead:.2f} nats)")


@lru_cache(maxsize=64)
def _content_free_scores(generator: Generator, neutral: str, choices: tuple[str, ...]) -> tuple[float, ...]:
    """The choices' scores on the content-free prompt: the model's prior, subtracted before deciding."""
    return tuple(generator.score(neutral, choices))
