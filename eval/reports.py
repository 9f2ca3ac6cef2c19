"""Reports of a stored run: one self-contained HTML file, Markdown for a pull request, CSV for a notebook.

The HTML inlines plotly.js once (no CDN: it opens offline and can be mailed), then holds the charts
of `eval.report_charts`, a table of means with intervals and how many items each metric scored, the
paired comparison with the baseline, and every question with each strategy's answer and contexts.
"""

import csv
import html
import io
import math
from pathlib import Path

from eval.report_charts import report_figures
from eval.run_analysis import RunAnalysis
from eval.statistics import Interval
from eval.sweep import ChunkerRow, chunker_table

FORMATS = ("html", "md", "csv")


class UnknownReportFormat(ValueError):
    pass


def write_report(analysis: RunAnalysis, report_format: str, out: Path) -> Path:
    renderers = {"html": render_html, "md": render_markdown, "csv": render_csv}
    if report_format not in renderers:
        raise UnknownReportFormat(f"No report format {report_format!r}; use one of: {', '.join(FORMATS)}.")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(renderers[report_format](analysis), encoding="utf-8")
    return out


def _cell(interval: Interval) -> str:
    if not interval.n:
        return "–"
    return f"{interval.mean:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def _number(value: float | None) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.4g}"


def _header(analysis: RunAnalysis) -> list[str]:
    run = analysis.run
    generator = run.manifest.get("generator", {})
    served_by = " · ".join(str(generator[key]) for key in ("backend", "url") if generator.get(key))
    lines = [
        f"Run {run.run_id} · {run.created_at} · knowledge base {run.kb} · QA file {Path(run.qa_path).name} "
        f"({len(analysis.items)} items) · generator {generator.get('id')}" + (f" ({served_by})" if served_by else ""),
    ]
    for strategy in analysis.strategies:
        lines.append(
            f"{strategy}: {analysis.answered[strategy]} of {len(analysis.items)} items answered, "
            f"{analysis.errors[strategy]} raised an error"
        )
    lines += [f"{kind}: {message}" for _, kind, message in analysis.events]
    return lines


def _scored_lines(analysis: RunAnalysis) -> list[str]:
    """How many results each metric scored, and why the rest were not, e.g. an unparseable judge."""
    total = sum(analysis.answered.values()) - sum(analysis.errors.values())
    lines = []
    for metric in analysis.metrics:
        scored = sum(analysis.intervals[s][metric].n for s in analysis.strategies)
        reasons = "; ".join(f"{count}× {reason}" for reason, count in analysis.unscored_reasons[metric].most_common(3))
        lines.append(f"{metric}: {scored} of {total} results scored" + (f" (not scored: {reasons})" if reasons else ""))
    return lines


CHUNKER_COLUMNS = ("chunker", "chunks", "mean / p95 tokens", "ingest s", "index KiB", "recall@k", "MRR", "answer F1",
                   "s / question", "on this corpus")


def chunker_cells(row: ChunkerRow) -> list[str]:
    """A chunking-study row: the chunker's build, then each figure as mean [95% interval]."""
    def figure(name: str) -> str:
        f = row.figures.get(name)
        return "–" if not f or f["mean"] is None else f"{f['mean']:.3f} [{f['low']:.3f}, {f['high']:.3f}]"

    build = row.build
    return [
        row.chunker, str(build["chunks"]), f"{build['mean_tokens']:.0f} / {build['p95_tokens']:.0f}",
        f"{build['ingest_s']:.1f}", f"{build['index_bytes'] / 1024:.0f}", figure("recall_at_k"), figure("mrr"),
        figure("answer_f1"), figure("seconds_per_question"), row.verdict,
    ]


def render_markdown(analysis: RunAnalysis) -> str:
    out = [f"# Evaluation {analysis.run.run_id}", ""] + [f"- {line}" for line in _header(analysis)] + [""]
    out += ["## Means with 95% bootstrap intervals", ""]
    out += ["| metric | " + " | ".join(analysis.strategies) + " |", "| --- |" + " --- |" * len(analysis.strategies)]
    for metric in analysis.metrics:
        out.append(f"| {metric} | " + " | ".join(_cell(analysis.intervals[s][metric]) for s in analysis.strategies) + " |")
    if analysis.comparisons:
        out += ["", f"## Paired difference from {analysis.baseline} (permutation p-value)", ""]
        names = list(analysis.comparisons)
        out += ["| metric | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
        for metric in analysis.metrics:
            cells = []
            for name in names:
                c = analysis.comparisons[name][metric]
                cells.append(f"{c.mean_difference:+.3f} (p={c.p_value:.3f}, n={c.n})" if c.n else "–")
            out.append(f"| {metric} | " + " | ".join(cells) + " |")
    if table := chunker_table(analysis, seed=0):
        out += ["", "## Chunkers (each over all its strategies' answers)", "", "| " + " | ".join(CHUNKER_COLUMNS) + " |",
                "| --- |" + " --- |" * (len(CHUNKER_COLUMNS) - 1)]
        out += ["| " + " | ".join(chunker_cells(row)) + " |" for row in table]
    out += ["", "## Items scored per metric", ""] + [f"- {line}" for line in _scored_lines(analysis)]
    return "\n".join(out) + "\n"


def render_csv(analysis: RunAnalysis) -> str:
    """One row per (item, strategy) with the answer, error, latency and every metric value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["item_id", "question", "reference", "strategy", "answer", "error", "total_ms", *analysis.metrics])
    questions = {item.item_id: item for item in analysis.items}
    for result in analysis.results:
        item = questions[result.item_id]
        values = [result.metrics.get(m) for m in analysis.metrics]
        writer.writerow(
            [
                item.item_id, item.question, item.reference, result.strategy, result.answer, result.error or "",
                f"{result.trace.get('total_ms', 0):.1f}", *[_number(v.value if v else None) for v in values],
            ]
        )
    return buffer.getvalue()


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 12px 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.question { margin-top: 18px; }
details { font-size: 12px; color: #444; }
.error { color: #b00; }
"""


def render_html(analysis: RunAnalysis) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>RAG Lab evaluation {esc(analysis.run.run_id)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>Evaluation {esc(analysis.run.run_id)}</h1><ul>",
        *[f"<li>{esc(line)}</li>" for line in _header(analysis)],
        "</ul>",
    ]
    for position, figure in enumerate(report_figures(analysis)):
        parts.append(figure.to_html(full_html=False, include_plotlyjs=position == 0, config={"displaylogo": False}))
    parts.append("<h2>Means with 95% bootstrap intervals</h2><table><tr><th>metric</th>")
    parts += [f"<th>{esc(s)}</th>" for s in analysis.strategies] + ["</tr>"]
    for metric in analysis.metrics:
        cells = "".join(f"<td>{esc(_cell(analysis.intervals[s][metric]))}</td>" for s in analysis.strategies)
        parts.append(f"<tr><td>{esc(metric)}</td>{cells}</tr>")
    parts.append("</table>")
    if table := chunker_table(analysis, seed=0):
        parts.append("<h2>Chunkers (each over all its strategies' answers)</h2><table class='chunkers'><tr>")
        parts += [f"<th>{esc(column)}</th>" for column in CHUNKER_COLUMNS] + ["</tr>"]
        for row in table:
            parts.append("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in chunker_cells(row)) + "</tr>")
        parts.append("</table>")
    parts.append("<h2>Items scored per metric</h2><ul>")
    parts += [f"<li>{esc(line)}</li>" for line in _scored_lines(analysis)] + ["</ul>"]
    parts.append("<h2>Questions</h2>")
    parts += _question_blocks(analysis)
    parts.append("</body></html>")
    return "\n".join(parts)


def _question_blocks(analysis: RunAnalysis) -> list[str]:
    esc = html.escape
    by_item: dict[str, list] = {}
    for result in analysis.results:
        by_item.setdefault(result.item_id, []).append(result)
    shown = [m for m in ("answer_em", "answer_f1", "recall_at_k", "semantic_similarity") if m in analysis.metrics]
    blocks = []
    for item in analysis.items:
        rows = [
            f"<div class='question'><h3>{esc(item.question)}</h3>",
            f"<p>reference: <b>{esc(item.reference)}</b> · gold documents: {esc(', '.join(item.reference_doc_titles))}</p>",
            "<table><tr><th>strategy</th><th>answer</th>" + "".join(f"<th>{esc(m)}</th>" for m in shown) + "<th>contexts</th></tr>",
        ]
        for result in by_item.get(item.item_id, []):
            answer = f"<span class='error'>{esc(result.error)}</span>" if result.error else esc(result.answer)
            values = "".join(
                f"<td>{esc(_number(result.metrics[m].value) if m in result.metrics else '')}</td>" for m in shown
            )
            contexts = "".join(
                f"<details><summary>{c['rank']}. {esc(c['doc_title'])} ({c['score']:.3f})</summary>{esc(c['text'])}</details>"
                for c in result.contexts
            )
            rows.append(f"<tr><td>{esc(result.strategy)}</td><td>{answer}</td>{values}<td>{contexts}</td></tr>")
        rows.append("</table></div>")
        blocks.append("\n".join(rows))
    return blocks
