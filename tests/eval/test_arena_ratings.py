"""Arena pairing and ratings: fair sides, order-free ratings, votes that count once."""

import random
from collections import Counter

import pytest

from eval.arena import ArenaError, ArenaStore, draw_pair, leaderboard


def test_each_strategy_is_shown_as_a_about_as_often_as_as_b():
    rng = random.Random(7)
    shown_first = Counter(draw_pair(["hyde", "traditional"], rng)[0] for _ in range(2000))
    assert abs(shown_first["hyde"] - shown_first["traditional"]) < 150


def test_the_strategy_that_wins_more_rates_higher_whatever_the_vote_order():
    votes = [("x", "y", "A")] * 6 + [("x", "y", "B")] * 2 + [("y", "z", "A")] * 5 + [("z", "x", "tie")] * 2
    board = leaderboard(votes)
    assert [s.strategy for s in board] == ["x", "y", "z"]
    assert [round(s.rating, 6) for s in leaderboard(list(reversed(votes)))] == [round(s.rating, 6) for s in board]
    assert board[0].votes == 10 and board[0].ties == 2


def test_a_vote_is_recorded_once_and_reveals_the_names(tmp_path):
    store = ArenaStore(tmp_path / "runs.sqlite")
    battle = store.open_battle("demo", "Q?", "hyde", "traditional", "a", "b")
    revealed = store.vote(battle.id, "A")
    assert (revealed.strategy_a, revealed.strategy_b) == ("hyde", "traditional")
    assert store.votes() == [("hyde", "traditional", "A")]
    with pytest.raises(ArenaError, match="already has a vote"):
        store.vote(battle.id, "B")
    with pytest.raises(ArenaError, match="Unknown vote 'maybe'"):
        store.vote(store.open_battle("demo", "Q?", "a", "b", "", "").id, "maybe")
