"""The chunking study: one knowledge base per chunker from the same documents, every strategy on each, one run.

The source material tabulates what each chunking strategy is good and bad at; this measures that
table on the user's own corpus. Each chunker's knowledge base is named by a hash of the documents'
contents and every setting that shapes its chunks, so running the study again (or resuming it)
reuses the knowledge bases already built. The run stores each (chunker, strategy) pair under the key
`chunker/strategy`, so the report, its confidence intervals and paired tests read it unchanged.
"""

import hashlib
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from eval.evaluation import EvalOutcome, evaluate
from eval.qa_sets import QASet
from eval.run_analysis import RunAnalysis
from eval.run_store import RunStore
from eval.statistics import bootstrap_mean_interval
from lab.context import LabContext
from lab.core import LabSettings
from lab.graph import EntityExtractor
from lab.ingestion import ingest_with_chunker
from lab.llm import Generator
from lab.kb import Embedder, KnowledgeBase, find_files, make_chunker

Progress = Callable[[float, str], None]
STUDY_FILE = "chunking_study.json"
TABLE_METRICS = ("recall_at_k", "mrr", "answer_f1")


@dataclass(frozen=True)
class ChunkerBuild:
    """What one chunker made of the documents; `reused` when a previous study built the same KB."""

    chunker: str
    kb_name: str
    chunks: int
    mean_tokens: float
    p95_tokens: float
    ingest_s: float
    index_bytes: int
    failures: list[tuple[str, str]] = field(default_factory=list)
    rule_split_chunks: int = 0
    reused: bool = False


def study_fingerprint(paths: Sequence[Path], chunker: str, settings: LabSettings, embedder_id: str) -> str:
    """Hash of every file's name and bytes and of the settings a chunk depends on."""
    files = find_files(list(paths)).files
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda f: f.name):
        digest.update(f"{file.name}\0{hashlib.sha256(file.read_bytes()).hexdigest()}\0".encode())
    digest.update(json.dumps([chunker, settings.chunk_tokens, settings.chunk_overlap_tokens, embedder_id,
                              settings.spacy_model, settings.index_kind]).encode())
    return digest.hexdigest()


def build_chunker_kb(
    settings: LabSettings,
    embedder: Embedder,
    generator: Generator,
    paths: Sequence[Path],
    chunker_name: str,
    on_progress: Progress | None = None,
) -> ChunkerBuild:
    """The KB for `chunker_name`, built unless the same documents and settings were built before."""
    kb_name = f"study-{chunker_name}-{study_fingerprint(paths, chunker_name, settings, embedder.model_id)[:12]}"
    record = settings.home / "kbs" / kb_name / STUDY_FILE
    if record.exists():
        return replace(ChunkerBuild(**json.loads(record.read_text())), reused=True)
    chunker = make_chunker(chunker_name, embedder, settings.chunk_tokens, settings.chunk_overlap_tokens, lambda: generator)
    started = time.perf_counter()
    report = ingest_with_chunker(settings, kb_name, paths, embedder, chunker, on_progress or (lambda f, m: None))
    ingest_s = time.perf_counter() - started
    kb = KnowledgeBase.open(settings.home, kb_name)
    try:
        tokens = kb.store.chunk_token_counts()
    finally:
        kb.close()
    folder = record.parent
    index_bytes = sum(path.stat().st_size for path in [folder / "dense.faiss", *(folder / "bm25").glob("**/*")]
                      if path.is_file())
    build = ChunkerBuild(
        chunker_name, kb_name, len(tokens), statistics.fmean(tokens) if tokens else 0.0,
        _percentile(tokens, 95), ingest_s, index_bytes,
        [(failure.path, failure.reason) for failure in report.failures], getattr(chunker, "rule_split_chunks", 0),
    )
    staging = record.with_suffix(".partial")
    staging.write_text(json.dumps(asdict(build)))
    staging.replace(record)
    return build


def _percentile(values: Sequence[int], percent: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))])


def run_study(
    settings: LabSettings,
    embedder: Embedder,
    generator: Generator,
    qa_set: QASet,
    paths: Sequence[Path],
    chunkers: Sequence[str],
    strategies: Sequence[str],
    metrics: Sequence[str],
    store: RunStore,
    run_id: str | None = None,
    on_progress: Progress | None = None,
) -> tuple[EvalOutcome, list[ChunkerBuild]]:
    """Build (or reuse) a KB per chunker, then evaluate every strategy on each as one run."""
    progress = on_progress or (lambda fraction, message: None)
    builds = []
    for n, chunker in enumerate(chunkers):
        span = 0.4 / len(chunkers)
        builds.append(build_chunker_kb(settings, embedder, generator, paths, chunker,
                                       lambda f, m, n=n, c=chunker: progress(n * span + f * span, f"{c}: {m}")))
    kbs = {build.chunker: KnowledgeBase.open(settings.home, build.kb_name) for build in builds}
    keys = [f"{chunker}/{strategy}" for chunker in chunkers for strategy in strategies]
    try:
        outcome = evaluate(
            LabContext(settings, generator, embedder, kbs[chunkers[0]], EntityExtractor.load(settings.spacy_model)),
            qa_set, keys, metrics, store, run_id,
            on_progress=lambda f, m: progress(0.4 + 0.6 * f, m), chunker_kbs=kbs,
            manifest_extra={"chunking_study": [asdict(build) for build in builds]},
        )
    finally:
        for kb in kbs.values():
            kb.close()
    return outcome, builds


@dataclass(frozen=True)
class ChunkerRow:
    chunker: str
    build: dict[str, Any]
    figures: dict[str, dict[str, float | int | None]]
    verdict: str = ""


def chunker_table(analysis: RunAnalysis, seed: int = 0) -> list[ChunkerRow]:
    """Per chunker, over all its strategies' answers: each metric's mean with its bootstrap CI, and s/question."""
    builds = {build["chunker"]: build for build in analysis.run.manifest.get("chunking_study", [])}
    rows = []
    for chunker, build in builds.items():
        keys = [key for key in analysis.strategies if key.startswith(f"{chunker}/")]
        figures = {}
        for metric in TABLE_METRICS:
            if metric in analysis.metrics:
                interval = bootstrap_mean_interval([v for key in keys for v in analysis.scores[key][metric]], seed=seed)
                figures[metric] = {"mean": interval.mean if interval.n else None, "low": interval.low,
                                   "high": interval.high, "n": interval.n}
        seconds = [r.trace.get("total_ms", 0) / 1000 for r in analysis.results if r.strategy in keys and not r.error]
        interval = bootstrap_mean_interval(seconds, seed=seed)
        figures["seconds_per_question"] = {"mean": interval.mean if interval.n else None, "low": interval.low,
                                           "high": interval.high, "n": interval.n}
        rows.append(ChunkerRow(chunker, build, figures))
    return with_verdicts(rows)


def with_verdicts(rows: list[ChunkerRow]) -> list[ChunkerRow]:
    """One line per chunker: where it is best and where it is worst among the chunkers on this corpus."""
    higher_better = {"recall_at_k": "recall@k", "mrr": "MRR", "answer_f1": "answer F1"}
    lower_better = {"seconds_per_question": "time per question"}
    build_lower = {"ingest_s": "ingest time", "index_bytes": "index size"}

    def value(row: ChunkerRow, name: str) -> float | None:
        return row.build.get(name) if name in build_lower else (row.figures.get(name) or {}).get("mean")

    judged = []
    for row in rows:
        wins, losses = [], []
        for name, label in {**higher_better, **lower_better, **build_lower}.items():
            values = [v for r in rows if (v := value(r, name)) is not None]
            mine = value(row, name)
            if mine is None or len(values) < 2 or max(values) == min(values):
                continue
            best, worst = (max(values), min(values)) if name in higher_better else (min(values), max(values))
            if mine == best:
                wins.append(label)
            elif mine == worst:
                losses.append(label)
        verdict = f"best on {', '.join(wins) or 'nothing'}; worst on {', '.join(losses) or 'nothing'}"
        if row.build.get("rule_split_chunks"):
            verdict += f"; {row.build['rule_split_chunks']} chunks cut by rules where a topic ran over the size"
        judged.append(replace(row, verdict=verdict))
    return judged


def study_rows(analysis: RunAnalysis) -> list[dict[str, Any]]:
    """One row per (chunker, strategy): its chunker's build figures beside the pair's metrics, each with its CI."""
    builds = {build["chunker"]: build for build in analysis.run.manifest.get("chunking_study", [])}
    rows = []
    for key in analysis.strategies:
        chunker, _, strategy = key.partition("/")
        build = builds.get(chunker, {})
        seconds = [r.trace.get("total_ms", 0) / 1000 for r in analysis.results if r.strategy == key and not r.error]
        row: dict[str, Any] = {
            "chunker": chunker, "strategy": strategy,
            **{name: build.get(name) for name in ("chunks", "mean_tokens", "p95_tokens", "ingest_s", "index_bytes",
                                                  "rule_split_chunks")},
            "seconds_per_question": statistics.fmean(seconds) if seconds else None,
        }
        for metric in TABLE_METRICS:
            if metric in analysis.intervals.get(key, {}):
                interval = analysis.intervals[key][metric]
                row[metric] = interval.mean if interval.n else None
                row[f"{metric}_ci"] = [interval.low, interval.high] if interval.n else None
        rows.append(row)
    return rows
