"""The Gradio arena, driven through gradio_client against a launched server, as a demo would use it."""

import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from gradio_client import Client

from app.exposure import ARENA_PASSWORD_ENV, ARENA_USER
from tests.servers import free_port, raglab_server

PASSWORD = "demo-day-password"
LOGIN = (ARENA_USER, PASSWORD)


@pytest.fixture(scope="module")
def arena_url(settings, demo_kb):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"

    def reachable() -> bool:
        try:
            Client(url, auth=LOGIN, verbose=False)
            return True
        except Exception:  # still loading models: any connection error means "not yet"
            return False

    arena = ["arena", "--port", str(port), "--kb", "demo"]
    with raglab_server(arena, settings.home, reachable, env={ARENA_PASSWORD_ENV: PASSWORD}):
        yield url


def test_a_battle_hides_names_until_the_vote_and_the_leaderboard_counts_it(arena_url):
    client = Client(arena_url, auth=LOGIN, verbose=False)
    battle_id, answer_a, answer_b, prompt = client.predict("Who directed the film Ed Wood?", api_name="/battle")
    assert battle_id and isinstance(answer_a, str) and isinstance(answer_b, str)
    assert "revealed after your vote" in prompt

    verdict = client.predict(battle_id, "A", api_name="/vote")
    assert "A was **" in verdict and "B was **" in verdict

    board = client.predict(api_name="/leaderboard")
    rows = board["data"]
    assert sum(row[2] for row in rows) == 2  # one vote counts once for each of its two strategies
    winner = verdict.split("A was **")[1].split("**")[0]
    assert rows[0][0] == winner


def test_with_a_password_set_the_arena_answers_no_one_who_has_not_logged_in(arena_url):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(arena_url + "config", timeout=10)
    assert refused.value.code == 401
    with pytest.raises(Exception, match="(?i)login|auth|credentials"):
        Client(arena_url, auth=(ARENA_USER, "wrong"), verbose=False)


def test_serving_the_arena_beyond_loopback_without_a_password_is_refused_before_anything_loads(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != ARENA_PASSWORD_ENV}
    refused = subprocess.run(
        [sys.executable, "-m", "app.cli", "arena", "--host", "0.0.0.0", "--home", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert refused.returncode != 0
    assert ARENA_PASSWORD_ENV in refused.stderr and "127.0.0.1" in refused.stderr
    assert not (tmp_path / "kbs").exists()
