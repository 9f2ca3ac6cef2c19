"""The KV cache page in a real browser: one quick run draws every experiment, each chart with its caption."""

from tests.app.test_browser import keep_screenshot

SECTIONS = (
    "1. Cache on vs off",
    "2. Memory against context length",
    "3. Cache modes",
    "4. Theory for named models",
    "5. Prefix reuse across a strategy's calls",
)


def test_the_kv_cache_page_runs_and_plots_all_five_experiments(served_lab, new_page, tmp_path):
    page = new_page(1400, 1400)
    page.goto(f"{served_lab}/KV_cache")
    page.get_by_role("button", name="Run the KV-cache lab").click()
    page.get_by_role("heading", name=SECTIONS[-1]).wait_for(timeout=600_000)
    page.locator(".js-plotly-plot .main-svg").nth(5).wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    headings = [heading.strip() for heading in page.locator("h3").all_inner_texts()]
    plots = page.locator(".js-plotly-plot").count()
    text = page.locator("body").inner_text()
    screenshot = tmp_path / "kv-cache.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert all(section in headings for section in SECTIONS)
    assert plots == 6
    assert "Cache on vs off:" in text and "Llama-2-7B in fp16 holds 0.52 GB" in text
    assert "Traceback" not in text
    keep_screenshot(screenshot, "kv-cache.png")
