"""`raglab eval`, `raglab runs` and the run store as a user meets them: a real SIGKILL to a real process, two
processes writing one store at once; the commands around them run in process (tests/commands.py)."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from lab.ingestion import DEMO_FILE
from tests.commands import raglab

RAGLAB = [sys.executable, "-m", "app.cli"]


def start(*args: str, home: Path) -> subprocess.Popen:
    env = {**os.environ, "RAGLAB_HOME": str(home)}
    return subprocess.Popen([*RAGLAB, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=600)
    return process.returncode, stdout, stderr


def stored_results(home: Path, run_id: str) -> list[tuple]:
    path = home / "runs.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(path, timeout=30)
    try:
        return db.execute(
            "SELECT item_id, strategy, answer, finished_at FROM results WHERE run_id = ? ORDER BY item_id, strategy", (run_id,)
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def test_an_eval_killed_mid_run_resumes_without_losing_or_rescoring_an_item(settings, demo_kb):
    home, run_id = settings.home, "killed-and-resumed"
    command = ("eval", "--qa", str(DEMO_FILE), "--kb", "demo", "--strategies", "no-retrieval,traditional",
               "--metrics", "answer,retrieval", "--limit", "3", "--run-id", run_id, "--json")
    process = start(*command, home=home)
    deadline = time.monotonic() + 400
    while len(stored_results(home, run_id)) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    before_resume = stored_results(home, run_id)
    assert 2 <= len(before_resume) < 6, "the eval must be killed mid-run"

    resumed = raglab(*command, home=home)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(before_resume)} of 6 already stored" in resumed.stderr
    after = stored_results(home, run_id)
    assert len(after) == 6 == len({(item, strategy) for item, strategy, _, _ in after})
    assert set(before_resume) <= set(after), "a result stored before the kill was recomputed"
    summary = json.loads(resumed.stdout)
    assert summary["run_id"] == run_id and summary["items"] == 3
    assert set(summary["strategies"]) == {"no-retrieval", "traditional"}
    assert 0.0 <= summary["strategies"]["traditional"]["answer_f1"] <= 1.0


def test_two_evals_writing_the_same_store_at_once_both_finish_intact(settings, demo_kb):
    home = settings.home
    runs = ("concurrent-a", "concurrent-b")
    processes = [
        start("eval", "--qa", str(DEMO_FILE), "--kb", "demo", "--strategies", "no-retrieval", "--metrics", "answer",
              "--limit", "2", "--run-id", run_id, "--json", home=home)
        for run_id in runs
    ]
    outcomes = [finish(process) for process in processes]
    assert [code for code, _, _ in outcomes] == [0, 0], [err for _, _, err in outcomes]
    assert [len(stored_results(home, run_id)) for run_id in runs] == [2, 2]
    db = sqlite3.connect(home / "runs.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    listed = raglab("runs", "--json", home=home)
    rows = {row["run_id"]: row for row in json.loads(listed.stdout)}
    assert rows["concurrent-a"]["results"] == rows["concurrent-a"]["expected"] == 2


UNSEEN_HOTPOTQA = [
    {
        "_id": "made-up-1",
        "question": "Which river flows through the town of Quillmere?",
        "answer": "the Varro",
        "supporting_facts": [["Quillmere", 0], ["Varro River", 0]],
        "context": [
            ["Quillmere", ["Quillmere is a small market town in the valley of the Varro.", " It is known for its glassworks."]],
            ["Varro River", ["The Varro River rises in the Pellin Hills and flows through Quillmere."]],
            ["Pellin Hills", ["The Pellin Hills are a range of low chalk hills."]],
        ],
        "type": "bridge",
        "level": "easy",
    },
    {
        "_id": "made-up-2",
        "question": "What is Quillmere known for?",
        "answer": "glassworks",
        "supporting_facts": [["Quillmere", 1]],
        "context": [
            ["Quillmere", ["Quillmere is a small market town in the valley of the Varro.", " It is known for its glassworks."]],
            ["Ostrander Mill", ["Ostrander Mill is a disused flour mill on the Varro River."]],
        ],
        "type": "bridge",
        "level": "easy",
    },
]


def test_eval_builds_a_kb_from_an_unseen_hotpotqa_file_and_prints_means_per_strategy(tmp_path):
    qa = tmp_path / "unseen.json"
    qa.write_text(json.dumps(UNSEEN_HOTPOTQA))
    result = raglab("eval", "--qa", str(qa), "--kb", "unseen", "--build-kb", "--strategies", "no-retrieval,traditional",
                    "--json", home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["items"] == 2 and set(summary["strategies"]) == {"no-retrieval", "traditional"}
    traditional, closed_book = summary["strategies"]["traditional"], summary["strategies"]["no-retrieval"]
    assert traditional["recall_at_k"] == 1.0, "with 4 paragraphs in the KB every gold one is in the top 5"
    assert closed_book["recall_at_k"] == 0.0
    assert {"answer_em", "answer_f1", "rouge_score", "semantic_similarity", "ndcg_at_k"} <= set(traditional)
