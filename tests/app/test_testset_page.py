"""The Test set page in a real browser: generate a set from the demo knowledge base, reject one item, edit
another, save, and evaluate the saved set on the Evaluate page; corpus text in the review stays text."""

import json

from lab.testsets import saved_testsets
from tests.app.test_hostile_content import SCRIPT_DONE


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

    page.get_by_text("Keep 2", exact=True).click()  # the second item: rejected
    page.locator('[data-testid="stExpander"] summary').first.click()  # the first item, opened for editing
    question = page.get_by_label("Question 1")
    question.fill("Which page does the first answer come from?")
    question.press("Tab")
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
