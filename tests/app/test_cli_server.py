"""`raglab` pointed at a real llama.cpp server with `--backend openai`, as a user with a model server runs it
(the commands run in process, tests/commands.py; the server is a real one)."""

import json
from pathlib import Path

import pytest

from lab.ingestion import DEMO_FILE
from tests import commands
from tests.conftest import SERVED_MODEL
from tests.servers import LlamaCppServer

QUESTION = "Which city was the director of the film Ed Wood born in?"
FAKE_KEY = "sk-raglab-test-7f3a9c-never-print-me"


def raglab(*args: str, home: Path, url: str, key: str | None = None, model: str = SERVED_MODEL) -> commands.Ran:
    env = {"RAGLAB_GENERATOR_RETRIES": "1"}
    if key:
        env.update({"RAGLAB_GENERATOR_KEY_ENV": "RAGLAB_TEST_SERVER_KEY", "RAGLAB_TEST_SERVER_KEY": key})
    backend = ["--backend", "openai", "--generator-url", url, "--generator", model]
    return commands.raglab(*args, *backend, home=home, env=env)


@pytest.fixture(scope="module")
def served_home(settings, demo_kb) -> Path:
    return settings.home


def test_ask_through_the_server_records_backend_model_and_url_and_never_the_key(served_home, llama_server, caplog):
    result = raglab("ask", QUESTION, "--kb", "demo", "--json", home=served_home, url=llama_server.url, key=FAKE_KEY)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["answer"] and answer["contexts"]
    assert answer["trace"]["generator"]["backend"] == "openai"
    assert answer["trace"]["generator"]["url"] == llama_server.url
    assert answer["trace"]["generator"]["model"] == SERVED_MODEL
    assert FAKE_KEY not in result.stdout + result.stderr + caplog.text


def test_compare_runs_the_four_headline_strategies_through_the_server(served_home, llama_server):
    result = raglab(
        "compare", QUESTION, "--kb", "demo", "--strategies", "traditional,hyde,graph,agentic", "--json",
        home=served_home, url=llama_server.url,
    )
    assert result.returncode == 0, result.stderr
    answers = {a["strategy"]: a for a in json.loads(result.stdout)}
    assert list(answers) == ["traditional", "hyde", "graph", "agentic"]
    assert all(a["error"] is None and a["contexts"] for a in answers.values())
    decisions = answers["agentic"]["trace"]["scoring_calls"]
    assert decisions and {call["path"] for call in decisions} <= {"grammar", "unscored"}


def test_a_small_eval_runs_items_concurrently_and_no_log_store_trace_or_report_holds_the_key(
    served_home, llama_server, tmp_path, caplog
):
    qa = tmp_path / "two.json"
    qa.write_text(json.dumps(json.loads(DEMO_FILE.read_text())[:2]))
    result = raglab(
        "eval", "--qa", str(qa), "--kb", "demo", "--strategies", "traditional,agentic", "--metrics", "answer",
        "--concurrency", "4", "--json", home=served_home, url=llama_server.url, key=FAKE_KEY,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["items"] == 2 and set(outcome["strategies"]) == {"traditional", "agentic"}
    for report_format in ("html", "md", "csv"):
        out = tmp_path / f"r.{report_format}"
        written = commands.raglab("report", outcome["run_id"], "--format", report_format, "--out", str(out), home=served_home)
        assert written.returncode == 0, written.stderr
    for stored in [*served_home.rglob("*"), *tmp_path.glob("r.*")]:
        if stored.is_file():
            assert FAKE_KEY.encode() not in stored.read_bytes(), f"the key leaked into {stored}"
    assert FAKE_KEY not in result.stdout + result.stderr + caplog.text


def test_a_stopped_server_is_named_with_its_url_and_the_fix(served_home, settings, tmp_path):
    from lab.llm import embedded_gguf

    server = LlamaCppServer(embedded_gguf(settings.model_cache), {SERVED_MODEL: {"logits_all": False}}, tmp_path)
    server.start()
    server.stop()
    result = raglab("ask", QUESTION, "--kb", "demo", home=served_home, url=server.url)
    assert result.returncode == 2
    assert f"Cannot reach a generator server at {server.url}" in result.stderr
    assert "generator_url" in result.stderr


def test_an_unknown_model_name_lists_what_the_server_serves(served_home, llama_server):
    result = raglab("ask", QUESTION, "--kb", "demo", home=served_home, url=llama_server.url, model="no-such-model")
    assert result.returncode == 2
    assert "does not serve model 'no-such-model'; it serves: gemma-3-270m" in result.stderr
