"""The Gradio arena, driven through gradio_client against a launched server, as a demo would use it."""

import pytest
from gradio_client import Client

from tests.servers import free_port, raglab_server


@pytest.fixture(scope="module")
def arena_url(settings, demo_kb):
    port = free_port()
    url = f"http://127.0.0.1:{port}/"

    def reachable() -> bool:
        try:
            Client(url, verbose=False)
            return True
        except Exception:  # still loading models: any connection error means "not yet"
            return False

    with raglab_server(["arena", "--port", str(port), "--kb", "demo"], settings.home, reachable):
        yield url


def test_a_battle_hides_names_until_the_vote_and_the_leaderboard_counts_it(arena_url):
    client = Client(arena_url, verbose=False)
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
