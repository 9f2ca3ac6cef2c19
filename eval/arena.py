"""The blind arena: pairs of strategies answer one question, a person votes, ratings follow.

Which two strategies meet, and which one is shown as "A", are drawn at random per battle, so the left
position gets no systematic advantage. Ratings are Bradley–Terry strengths fitted to all votes with
Hunter's (2004) MM algorithm — unlike Elo they do not depend on the order votes arrived in — shown on
the familiar Elo scale (400·log10 of the strength, centred on 1000). A tie or "both bad" counts half a
win to each side, as Chatbot Arena does (Chiang et al., 2024).
"""

import math
import random
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

VOTES = ("A", "B", "tie", "both bad")

SCHEMA = """
CREATE TABLE IF NOT EXISTS arena_battles (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    kb TEXT NOT NULL,
    question TEXT NOT NULL,
    strategy_a TEXT NOT NULL,
    strategy_b TEXT NOT NULL,
    answer_a TEXT NOT NULL,
    answer_b TEXT NOT NULL,
    vote TEXT CHECK (vote IS NULL OR vote IN ('A', 'B', 'tie', 'both bad')),
    voted_at REAL
);
"""


class ArenaError(ValueError):
    pass


@dataclass(frozen=True)
class Battle:
    id: str
    question: str
    strategy_a: str
    strategy_b: str


@dataclass(frozen=True)
class Standing:
    strategy: str
    rating: float
    wins: float
    losses: float
    ties: int
    votes: int


def draw_pair(strategy_names: Sequence[str], rng: random.Random) -> tuple[str, str]:
    """Two different strategies in random order: the first is shown as A."""
    if len(strategy_names) < 2:
        raise ArenaError(f"The arena needs at least two strategies; got {list(strategy_names)}.")
    first, second = rng.sample(list(strategy_names), 2)
    return first, second


class ArenaStore:
    """Battles and votes in the lab's SQLite run store (WAL, so the lab and evals can share it)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def open_battle(self, kb: str, question: str, strategy_a: str, strategy_b: str, answer_a: str, answer_b: str) -> Battle:
        battle = Battle(uuid.uuid4().hex[:12], question, strategy_a, strategy_b)
        with self._db:
            self._db.execute(
                "INSERT INTO arena_battles(id, created_at, kb, question, strategy_a, strategy_b, answer_a, answer_b)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (battle.id, time.time(), kb, question, strategy_a, strategy_b, answer_a, answer_b),
            )
        return battle

    def vote(self, battle_id: str, vote: str) -> Battle:
        """Record the vote once and reveal who was who."""
        if vote not in VOTES:
            raise ArenaError(f"Unknown vote {vote!r}; vote one of {', '.join(VOTES)}.")
        row = self._db.execute(
            "SELECT question, strategy_a, strategy_b, vote FROM arena_battles WHERE id = ?", (battle_id,)
        ).fetchone()
        if row is None:
            raise ArenaError(f"No battle {battle_id!r}; start a battle before voting.")
        if row[3] is not None:
            raise ArenaError(f"Battle {battle_id!r} already has a vote ({row[3]}); start a new battle.")
        with self._db:
            self._db.execute("UPDATE arena_battles SET vote = ?, voted_at = ? WHERE id = ?", (vote, time.time(), battle_id))
        return Battle(battle_id, row[0], row[1], row[2])

    def votes(self) -> list[tuple[str, str, str]]:
        return self._db.execute(
            "SELECT strategy_a, strategy_b, vote FROM arena_battles WHERE vote IS NOT NULL ORDER BY voted_at"
        ).fetchall()


def leaderboard(votes: Sequence[tuple[str, str, str]], iterations: int = 200) -> list[Standing]:
    """Bradley–Terry ratings with vote counts, best first."""
    names = sorted({name for a, b, _ in votes for name in (a, b)})
    wins = {name: 0.0 for name in names}
    losses = {name: 0.0 for name in names}
    ties = {name: 0 for name in names}
    games: dict[tuple[str, str], float] = {}
    for a, b, vote in votes:
        score_a = {"A": 1.0, "B": 0.0}.get(vote, 0.5)
        wins[a] += score_a
        wins[b] += 1 - score_a
        losses[a] += 1 - score_a
        losses[b] += score_a
        if vote in ("tie", "both bad"):
            ties[a] += 1
            ties[b] += 1
        pair = (min(a, b), max(a, b))
        games[pair] = games.get(pair, 0.0) + 1
    strength = {name: 1.0 for name in names}
    prior = 0.5  # one virtual tie against an average opponent keeps unbeaten strengths finite
    for _ in range(iterations):
        updated = {}
        for name in names:
            denominator = sum(
                count / (strength[name] + strength[other])
                for (x, y), count in games.items()
                if name in (x, y)
                for other in [y if x == name else x]
            ) + 2 * prior / (strength[name] + 1.0)
            updated[name] = (wins[name] + prior) / denominator
        scale = math.exp(sum(math.log(s) for s in updated.values()) / len(updated)) if updated else 1.0
        strength = {name: s / scale for name, s in updated.items()}
    standings = [
        Standing(
            name, 1000 + 400 * math.log10(strength[name]), wins[name], losses[name], ties[name],
            sum(count for pair, count in games.items() if name in pair),
        )
        for name in names
    ]
    return sorted(standings, key=lambda s: s.rating, reverse=True)
