"""Reports of a stored run: the HTML opens offline in a real browser and draws its plotly charts."""

import csv
import io
import json
import os
from pathlib import Path

import pytest

from eval.evaluation import evaluate
from eval.qa_sets import load_qa_set
from eval.reports import render_csv, render_markdown, write_report
from eval.run_analysis import analyze_run
from eval.run_store import RunStore


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory, demo_ctx, demo_questions):
    folder = tmp_path_factory.mktemp("report")
    qa = folder / "three.json"
    qa.write_text(json.dumps(demo_questions[:3]))
    store = RunStore(folder / "runs.sqlite")
    outcome = evaluate(demo_ctx, load_qa_set(qa), ["no-retrieval", "traditional"], ["retrieval", "answer_f1", "rouge_score"], store)
    yield store, analyze_run(store, outcome.run_id)
    store.close()


@pytest.mark.slow
def test_the_report_compares_each_strategy_with_traditional_on_paired_items(evaluated_run):
    _, analysis = evaluated_run
    assert analysis.baseline == "traditional" and list(analysis.comparisons) == ["no-retrieval"]
    recall = analysis.comparisons["no-retrieval"]["recall_at_k"]
    assert recall.n == 3 and recall.mean_difference < 0, "closed-book retrieves nothing, so it trails on recall"
    markdown = render_markdown(analysis)
    assert "## Paired difference from traditional" in markdown and "recall_at_k: 6 of 6 results scored" in markdown


@pytest.mark.slow
def test_the_csv_has_one_row_per_item_and_strategy_with_every_metric(evaluated_run):
    _, analysis = evaluated_run
    rows = list(csv.DictReader(io.StringIO(render_csv(analysis))))
    assert len(rows) == 6 and {"answer_f1", "ndcg_at_k", "rouge_score", "answer", "total_ms"} <= set(rows[0])


def test_the_html_report_renders_its_plotly_charts_offline_in_headless_chromium(evaluated_run, new_page, tmp_path):
    _, analysis = evaluated_run
    report = write_report(analysis, "html", tmp_path / "report.html")
    text = report.read_text()
    assert "<script src=" not in text and text.count("Plotly.newPlot") == 4, "plotly.js is inlined, not fetched"
    screenshot = tmp_path / "report.png"
    page = new_page(1280, 1000)
    page.route("**/*", lambda route: route.abort() if route.request.url.startswith("http") else route.continue_())
    page.goto(report.as_uri())
    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
    assert page.locator(".js-plotly-plot").count() == 4
    assert page.locator(".js-plotly-plot .barlayer .point").count() > 0
    assert page.get_by_text(analysis.items[0].question).count() >= 1
    page.screenshot(path=str(screenshot), full_page=False)
    assert screenshot.stat().st_size > 10_000
    if target := os.environ.get("RAGLAB_SCREENSHOT_DIR"):
        Path(target).mkdir(parents=True, exist_ok=True)
        (Path(target) / "report.png").write_bytes(screenshot.read_bytes())
