"""RAG Lab arena (Gradio): a blind pairwise battle between two strategies, for team demos.

Run with `raglab arena`. A question goes to two strategies drawn at random and shown as A and B; the
names are revealed only after the vote. Votes land in the lab's run store; the Leaderboard tab rates
strategies from all votes. The page only displays: pairing, storage and ratings live in `eval.arena`.
"""

import argparse
import random

import lab  # noqa: F401 - offline and silent (GRADIO_ANALYTICS_ENABLED=False) before gradio loads
import gradio as gr
import pandas as pd

from app.exposure import LOOPBACK, ExposureRefused, arena_auth
from app.running import EmptyQuestion, compare
from eval.arena import VOTES, ArenaError, ArenaStore, draw_pair, leaderboard
from eval.run_store import run_store_path
from lab.context import build_context
from lab.core import LabSettings
from lab.ingestion import DEMO_KB, ensure_demo_kb
from lab.kb import knowledge_base_names
from strategies import available_strategies


def build_arena(settings: LabSettings, kb_name: str, seed: int | None = None) -> gr.Blocks:
    ctx = build_context(settings, kb_name)
    store = ArenaStore(run_store_path(settings.home))
    contenders = list(available_strategies())
    rng = random.Random(seed)

    def battle(question: str) -> tuple[str, str, str, str]:
        try:
            a, b = draw_pair(contenders, rng)
            answer_a, answer_b = compare(question, [a, b], ctx)
        except (EmptyQuestion, ArenaError) as error:
            raise gr.Error(str(error)) from None
        text_a = answer_a.text if not answer_a.error else f"(failed: {answer_a.error})"
        text_b = answer_b.text if not answer_b.error else f"(failed: {answer_b.error})"
        opened = store.open_battle(kb_name, question, a, b, text_a, text_b)
        return opened.id, text_a, text_b, "Vote for the better answer: the names are revealed after your vote."

    def vote(battle_id: str, choice: str) -> str:
        try:
            revealed = store.vote(battle_id, choice)
        except ArenaError as error:
            raise gr.Error(str(error)) from None
        return f"You voted **{choice}**. A was **{revealed.strategy_a}**, B was **{revealed.strategy_b}**."

    def standings() -> pd.DataFrame:
        rows = [
            {"strategy": s.strategy, "rating": round(s.rating), "votes": s.votes, "wins": s.wins, "losses": s.losses,
             "ties": s.ties}
            for s in leaderboard(store.votes())
        ]
        return pd.DataFrame(rows, columns=["strategy", "rating", "votes", "wins", "losses", "ties"])

    with gr.Blocks(title="RAG Lab arena") as arena:
        gr.Markdown(f"# RAG Lab arena\nTwo hidden strategies answer your question from the **{kb_name}** knowledge base.")
        with gr.Tab("Battle"):
            question = gr.Textbox(label="Question", placeholder="Ask something the corpus can answer")
            ask_button = gr.Button("Battle", variant="primary")
            battle_id = gr.Textbox(label="Battle id", interactive=False)
            with gr.Row():
                answer_a = gr.Textbox(label="Answer A", interactive=False)
                answer_b = gr.Textbox(label="Answer B", interactive=False)
            with gr.Row():
                vote_buttons = [gr.Button(choice) for choice in VOTES]
            verdict = gr.Markdown()
            choice = gr.Textbox(visible=False)
            ask_button.click(battle, [question], [battle_id, answer_a, answer_b, verdict], api_name="battle")
            question.submit(battle, [question], [battle_id, answer_a, answer_b, verdict], api_name=False)
            for button, label in zip(vote_buttons, VOTES):
                button.click(lambda label=label: label, None, choice, api_name=False).then(
                    vote, [battle_id, choice], verdict, api_name=False
                )
            gr.api(vote, api_name="vote")
        with gr.Tab("Leaderboard"):
            table = gr.Dataframe(standings, label="Bradley–Terry ratings (Elo scale) with vote counts")
            gr.Button("Refresh").click(standings, None, table, api_name="leaderboard")
    return arena


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the RAG Lab arena (on 127.0.0.1 unless --host says otherwise).")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--kb", default=None, help="Knowledge base (default: the demo, built if no KB exists).")
    args = parser.parse_args()
    try:
        auth = arena_auth(args.host)
    except ExposureRefused as error:
        parser.exit(2, f"{error}\n")
    settings = LabSettings()
    ensure_demo_kb(settings)
    kb_name = args.kb or (DEMO_KB if DEMO_KB in knowledge_base_names(settings.home) else knowledge_base_names(settings.home)[0])
    build_arena(settings, kb_name).launch(server_name=args.host, server_port=args.port, auth=auth, quiet=True)


if __name__ == "__main__":
    main()
