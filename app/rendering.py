"""Terminal rendering: plain text for one answer, rich tables for a comparison and the strategy list."""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from lab.core import Answer


def render_answer(answer: Answer, max_context_chars: int = 160) -> str:
    if answer.error:
        return f"[{answer.strategy}] error: {answer.error}"
    lines = [f"[{answer.strategy}] {answer.text or '(empty answer)'}", "", "contexts:"]
    for p in answer.passages:
        snippet = " ".join(p.text.split())[:max_context_chars]
        lines.append(f"  {p.score:6.3f}  {p.doc_title} #{p.chunk_id}: {snippet}")
    lines += ["", "stages:"]
    lines += [f"  {s.name:<12} {s.ms:9.1f} ms" for s in answer.trace.stages]
    if answer.trace.generator:
        lines += ["", f"generator: {generator_line(answer.trace.generator)}"]
    if answer.trace.scoring_calls:
        lines.append(f"decisions: {decision_paths(answer)}")
    if candidates := answer_candidates(answer):
        lines.append("candidates: " + "; ".join(f"{c['text']} ({c['score']:.2f})" for c in candidates))
    for call in answer.trace.llm_calls:
        lines.append(
            f"  llm[{call.stage}] prompt={call.prompt_tokens} new={call.new_tokens} "
            f"kv={call.kv_bytes} B (theory {call.kv_bytes_theory} B)"
        )
    return "\n".join(lines)


def generator_line(described: dict[str, Any]) -> str:
    """One line naming what generated: backend, model, and the server URL where there is one (never a key)."""
    where = described.get("url") or described.get("device") or ""
    scoring = described.get("scoring") or ("likelihood scoring" if described["capabilities"]["can_score"] else "")
    return " · ".join(part for part in (described["backend"], described["model"], where, scoring) if part)


def decision_paths(answer: Answer) -> str:
    """How the answer's scoring calls were decided, counted by path: "12 likelihood", "5 grammar"."""
    counts = Counter(call.path for call in answer.trace.scoring_calls)
    return ", ".join(f"{count} {path}" for path, count in counts.most_common())


def answer_candidates(answer: Answer) -> list[dict[str, Any]]:
    """The ranked candidates an answer was selected from, when it was selected (the last read stage's)."""
    for stage in reversed(answer.trace.stages):
        if "candidates" in stage.detail:
            return list(stage.detail["candidates"])
    return []


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def comparison_table(answers: Sequence[Answer], contexts_shown: int = 3, max_context_chars: int = 60) -> Table:
    """One row per strategy: answer or error, top contexts, per-stage milliseconds, KV-cache bytes."""
    table = Table(show_lines=True, expand=True)
    for column, ratio in (("strategy", 1), ("answer", 3), ("top contexts", 4), ("stages (ms)", 2), ("KV cache", 2)):
        table.add_column(column, ratio=ratio, overflow="fold")
    for answer in answers:
        if answer.error:
            error = Text(f"error: {answer.error}", style="red")
            table.add_row(Text(answer.strategy), error, Text(""), Text(""), Text(""))
            continue
        contexts = "\n".join(
            f"{p.doc_title} #{p.chunk_id} ({p.score:.3f}): {' '.join(p.text.split())[:max_context_chars]}"
            for p in answer.passages[:contexts_shown]
        )
        stages = "\n".join([*(f"{s.name} {s.ms:,.0f}" for s in answer.trace.stages), f"total {answer.trace.total_ms:,.0f}"])
        kv = f"peak {_megabytes(answer.trace.kv_bytes_peak)}\ntotal {_megabytes(answer.trace.kv_bytes_total)}"
        text = Text(answer.text or "(empty answer)")
        table.add_row(Text(answer.strategy), text, Text(contexts or "(none)"), Text(stages), Text(kv))
    return table


def strategies_table(descriptions: Sequence[dict[str, Any]]) -> Table:
    """One row per strategy: name, the first line of its description, parameters, stages."""
    table = Table(show_lines=True, expand=True)
    for column, ratio in (("strategy", 1), ("idea", 4), ("parameters (default, range)", 4), ("stages", 2)):
        table.add_column(column, ratio=ratio, overflow="fold")
    for described in descriptions:
        parameters = "\n".join(
            f"{p['name']}={p['default']} ({p['range']})" for p in described["parameters"]
        )
        table.add_row(
            Text(described["name"]),
            Text(described["description"].splitlines()[0] if described["description"] else ""),
            Text(parameters or "(none)"),
            Text(" → ".join(described["stages"])),
        )
    return table
