"""Eight people on the web lab at once: simultaneous Compare requests through the real Streamlit server,
against the same requests made one at a time, in one run.

The lab is served on 127.0.0.1 from a temporary home holding the HotpotQA demo KB. Headless Chromium
opens one page per user; each asks a different demo question of the same strategies. First every
question alone, one after another (the single-user reference), then all of them at once. Reported:
the latency of each request, alone and under load, whether every answer under load equals its
single-user answer, each strategy's answer F1 against the demo's reference answers (alone and under
load), and the server's memory (the resident set of its process tree): idle, after the
single-user pass, and at its peak under load. Bounded: `--users` pages (8 by default), one question each,
and a timeout for the whole run.

    .venv/bin/python bench/concurrent_users.py [--users 8] [--strategies traditional,graph]
"""

import argparse
import asyncio
import json
import os
import statistics
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

import lab  # noqa: F401
from eval.answer_metrics import f1_score
from lab.core import LabSettings
from lab.ingestion import DEMO_FILE, DEMO_KB, build_bundled_demo

REPO = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ANSWER_COLUMNS_JS = """() => [...document.querySelectorAll('[data-testid="stColumn"]')].filter(c => c.querySelector('h3'))"""
# An answer column is drawn when its answer (st.html, rendered once its sanitizer has loaded) or its error is.
COLUMNS_DRAWN_JS = f"""(wanted) => {{ const columns = ({ANSWER_COLUMNS_JS})();
    return columns.length >= wanted && columns.every(c => c.querySelector('[data-testid="stHtml"] b, [data-testid="stAlert"]')); }}"""
COLUMNS_JS = f"""() => ({ANSWER_COLUMNS_JS})().map(c => [c.querySelector('h3').innerText.trim(),
    (c.querySelector('[data-testid="stHtml"] b') || c.querySelector('[data-testid="stAlert"]')).innerText.trim()])"""


class MemoryWatch:
    """The resident set of a process and its children, sampled every 0.2 s: current and peak."""

    def __init__(self, pid: int):
        self.root, self.peak, self._running = psutil.Process(pid), 0, True
        threading.Thread(target=self._sample, daemon=True).start()

    def now(self) -> int:
        if not self.root.is_running():
            raise SystemExit(f"the lab server (pid {self.root.pid}) is gone: its memory cannot be read")
        processes = [self.root, *self.root.children(recursive=True)]
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _sample(self) -> None:
        while self._running:
            self.peak = max(self.peak, self.now())
            time.sleep(0.2)

    def reset_peak(self) -> None:
        self.peak = self.now()


async def compare(browser, url: str, question: str, strategies: list[str], timeout_s: float) -> tuple[float, dict]:
    page = await browser.new_page(viewport={"width": 1600, "height": 1200})
    await page.goto(f"{url}/Compare")
    await page.get_by_role("button", name="Clear all").click()
    for strategy in strategies:
        await page.get_by_role("combobox", name="Strategies").fill(strategy)
        await page.get_by_role("option", name=strategy, exact=True).click()
    await page.get_by_label("Question").fill(question)
    await page.get_by_label("Question").press("Enter")
    await page.wait_for_timeout(300)
    started = time.perf_counter()
    await page.get_by_role("button", name="Compare").click()
    await page.get_by_role("heading", name="Same question, all strategies").wait_for(timeout=timeout_s * 1000)
    elapsed = time.perf_counter() - started
    await page.wait_for_function(COLUMNS_DRAWN_JS, arg=len(strategies), timeout=60_000)
    answers = dict(await page.evaluate(COLUMNS_JS))
    await page.close()
    return elapsed, answers


async def drive(url: str, questions: list[str], strategies: list[str], watch: MemoryWatch, timeout_s: float) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        await compare(browser, url, questions[0], strategies, timeout_s)  # loads the models once
        idle = watch.now()
        alone = [await compare(browser, url, q, strategies, timeout_s) for q in questions]
        after_alone = watch.now()
        watch.reset_peak()
        started = time.perf_counter()
        together = await asyncio.gather(*(compare(browser, url, q, strategies, timeout_s) for q in questions))
        wall = time.perf_counter() - started
        await browser.close()
    return {"idle": idle, "after_alone": after_alone, "peak_together": watch.peak, "alone": alone,
            "together": together, "together_wall_s": wall}


def serve(home: Path, port: int) -> subprocess.Popen:
    """`raglab lab` on the port; refused if something already listens there, since the bench would measure it instead."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is already in use (a lab left running?): stop it or pass --port")
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "lab", "--port", str(port)], cwd=REPO,
        env={**os.environ, "RAGLAB_HOME": str(home)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200:
                return server
        except OSError:
            time.sleep(1)
    server.kill()
    raise SystemExit("the lab did not start within 180 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--strategies", default="traditional,graph")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds any one request may take")
    args = parser.parse_args()
    strategies = args.strategies.split(",")
    records = json.loads(DEMO_FILE.read_text())[: args.users]
    questions, references = [r["question"] for r in records], [r["answer"] for r in records]
    with tempfile.TemporaryDirectory(prefix="raglab-users-") as home:
        build_bundled_demo(LabSettings(home=Path(home)), DEMO_KB)
        server = serve(Path(home), args.port)
        try:
            result = asyncio.run(drive(f"http://127.0.0.1:{args.port}", questions, strategies,
                                       MemoryWatch(server.pid), args.timeout))
        finally:
            server.terminate()
            server.wait(timeout=30)
    alone_s = [seconds for seconds, _ in result["alone"]]
    together_s = [seconds for seconds, _ in result["together"]]
    same = sum(a == t for (_, a), (_, t) in zip(result["alone"], result["together"]))
    filled = sum(all(answer for answer in t.values()) and len(t) == len(strategies) for _, t in result["together"])
    mib = 2**20
    print(f"{args.users} users, strategies {', '.join(strategies)}, one demo question each\n")
    print("| Measurement | One at a time | All at once |")
    print("| --- | --- | --- |")
    print(f"| Latency per request, median | {statistics.median(alone_s):.1f} s | {statistics.median(together_s):.1f} s |")
    print(f"| Latency per request, slowest | {max(alone_s):.1f} s | {max(together_s):.1f} s |")
    print(f"| Wall time for all {args.users} | {sum(alone_s):.1f} s | {result['together_wall_s']:.1f} s |")
    print(f"| Server memory (RSS, process tree) | {result['after_alone'] / mib:.0f} MiB (idle after warm-up "
          f"{result['idle'] / mib:.0f} MiB) | peak {result['peak_together'] / mib:.0f} MiB |")
    print(f"| Answers filled | {args.users}/{args.users} | {filled}/{args.users} |")
    print(f"| Answers equal to the one-at-a-time run | | {same}/{args.users} |")
    for strategy in strategies:
        f1 = [statistics.mean(f1_score(answers.get(strategy, ""), reference)
                              for (_, answers), reference in zip(result[key], references)) for key in ("alone", "together")]
        print(f"| {strategy}: answer F1 against the references | {f1[0]:.3f} | {f1[1]:.3f} |")
    for (seconds, answers), (_, alone), question in zip(result["together"], result["alone"], questions):
        print(f"- {question[:60]}: {seconds:.1f} s, {answers}" + ("" if answers == alone else f" (alone: {alone})"))


if __name__ == "__main__":
    main()
