"""The Test set page in a real browser: generate a set from the demo knowledge base, reject one item, edit
another, save, and evaluate the saved set on the Evaluate page; corpus text in the review stays text."""

import json

from lab.testsets import saved_testsets
from tests.app.test_hostile_content import SCRIPT_DONE


def keep_cell(page, row: int, on_the_box: bool) -> tuple[float, float]:
    """A point in a row's keep cell of the review table (drawn on a canvas: a 35 px header, 35 px rows, the
    keep column first): on its box, which toggles it, or at its left edge, which only selects the cell."""
    box = page.locator('[data-testid="stDataFrame"] canvas').first.bounding_box()
    return box["x"] + (53 if on_the_box else 10), box["y"] + 35 * (row + 1) + 17


def test_a_generated_set_is_reviewed_saved_and_evaluated(served_lab, new_page, settings):
    page = new_page(1600, 1400)
    page.goto(f"{served_lab}/Test_set")
    size = page.get_by_label("Items to keep")
    size.fill("3")
    size.press("Enter")
    page.get_by_role("button", name="Generate").click()
    page.get_by_text("Kept 3 of").wait_for(timeout=600_000)
    page.wait_for_function(SCRIPT_DONE, timeout=120_000)
    path = saved_testsets(settings.home)[0]
    generated = [json.loads(line) for line in path.read_text().splitlines()]

    page.mouse.click(*keep_cell(page, 1, on_the_box=True))  # the second item: rejected
    page.wait_for_timeout(700)
    page.wait_for_function(SCRIPT_DONE, timeout=120_000)  # an edit reruns the page
    page.mouse.click(*keep_cell(page, 0, on_the_box=False))
    for key in ("ArrowRight", "ArrowRight", "Enter"):  # the first item's question, opened for editing
        page.keyboard.press(key)
    page.wait_for_timeout(700)
    page.keyboard.type("Which page does the first answer come from?")
    page.keyboard.press("Enter")
    page.wait_for_timeout(700)
    page.wait_for_function(SCRIPT_DONE, timeout=120_000)
    page.get_by_role("button", name="Save review").click()
    page.get_by_text("Saved 2 items (1 edited, 1 rejected)").wait_for(timeout=60_000)
    saved = [json.loads(line) for line in path.read_text().splitlines()]
    assert [item["id"] for item in saved] == [generated[0]["id"], generated[2]["id"]]
    assert saved[0]["question"] == "Which page does the first answer come from?" and saved[0]["review"] == "edited"
    assert saved[1]["review"] == "accepted"

    page.goto(f"{served_lab}/Evaluate")
    page.get_by_text("Generated test set").first.click()
    page.get_by_text("Generated from knowledge base").wait_for(timeout=60_000)
    page.get_by_role("button", name="Run evaluation").click()
    page.get_by_text("results computed").wait_for(timeout=600_000)
    assert "4 results computed" in page.locator("body").inner_text()
