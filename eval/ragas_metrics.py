"""ragas metrics on one (question, answer, contexts, reference) sample, each score or NaN with its reason.

The metrics are ragas' own (0.4), built and called as ragas defines them; nothing here re-implements
one. They come from ragas' single-turn API (`SingleTurnSample`, `single_turn_ascore`), not from
`ragas.metrics.collections`: the collections lack NonLLMContextPrecisionWithReference and
NonLLMContextRecall, and their LLM metrics require an instructor (structured-output) client that a
local base model cannot be. ragas marks the single-turn imports deprecated; the warning is silenced
where they are imported, once.

Semantic similarity and answer relevancy embed with the lab's embedder (`LabEmbeddings`); the LLM metrics
are judged by the lab's generator (`GeneratorJudge`) unless `eval.judges` names an endpoint. A metric
that raises, times out, or returns NaN leaves NaN and the reason, and the next metric runs.
"""

import asyncio
import logging
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.outputs import Generation, LLMResult
from ragas.dataset_schema import SingleTurnSample
from ragas.embeddings.base import BaseRagasEmbeddings
from ragas.llms.base import BaseRagasLLM
from ragas.run_config import RunConfig

from eval.scoring import MetricValue
from lab.kb import Embedder
from lab.llm import Generator

log = logging.getLogger(__name__)

class LabEmbeddings(BaseRagasEmbeddings):
    """The lab's sentence-transformers embedder behind ragas' embeddings interface."""

    def __init__(self, embedder: Embedder):
        super().__init__()
        self.embedder = embedder
        self.run_config = RunConfig()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed(text).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed_many(texts).tolist()

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)


@dataclass
class GeneratorJudge(BaseRagasLLM):
    """The lab's generator as a ragas LLM: greedy, so `n` completions are one completion repeated.

    Generation runs synchronously inside ragas' coroutine: the model is shared with the strategies and
    must never run two generations at once.
    """

    generator: Generator | None = field(default=None, repr=False)
    max_new_tokens: int = 256

    def generate_text(self, prompt: Any, n: int = 1, temperature: float | None = 0.01, stop=None, callbacks=None) -> LLMResult:
        text = self.generator.generate(prompt.to_string(), stop=tuple(stop or ()), max_new_tokens=self.max_new_tokens).text
        return LLMResult(generations=[[Generation(text=text) for _ in range(n)]])

    async def agenerate_text(self, prompt: Any, n: int = 1, temperature: float | None = 0.01, stop=None, callbacks=None) -> LLMResult:
        return self.generate_text(prompt, n, temperature, stop, callbacks)

    def is_finished(self, response: LLMResult) -> bool:
        return True


def build_metrics(names: list[str], embeddings: LabEmbeddings, llm=None, run_config: RunConfig | None = None) -> dict:
    """ragas metric objects for the given names; LLM metrics get `llm`, embedding metrics `embeddings`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ragas import metrics as m

        factories: dict[str, Callable[[], object]] = {
            "non_llm_context_precision_with_reference": m.NonLLMContextPrecisionWithReference,
            "non_llm_context_recall": m.NonLLMContextRecall,
            "exact_match": m.ExactMatch,
            "string_present": m.StringPresence,
            "rouge_score": m.RougeScore,
            "bleu_score": m.BleuScore,
            "semantic_similarity": lambda: m.SemanticSimilarity(embeddings=embeddings),
            "faithfulness": lambda: m.Faithfulness(llm=llm),
            "answer_relevancy": lambda: m.ResponseRelevancy(llm=llm, embeddings=embeddings),
            "llm_context_precision_with_reference": lambda: m.LLMContextPrecisionWithReference(llm=llm),
            "context_recall": lambda: m.LLMContextRecall(llm=llm),
            "factual_correctness": lambda: m.FactualCorrectness(llm=llm),
        }
    built = {}
    for name in names:
        metric = factories[name]()
        metric.init(run_config or RunConfig())
        built[name] = metric
    return built


class RagasScorer:
    """Scores samples with a fixed set of ragas metrics on one event loop kept for the scorer's life.

    One loop, not `asyncio.run` per call: an endpoint judge's async HTTP client is bound to the loop
    it first ran on.
    """

    def __init__(self, metrics: dict, timeout_s: float):
        self.metrics = metrics
        self.timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()

    def close(self) -> None:
        self._loop.close()

    def score(
        self,
        question: str,
        response: str,
        retrieved_contexts: list[str],
        reference: str,
        reference_contexts: list[str],
        skip: set[str] = frozenset(),
        on_failure: Callable[[str, BaseException], None] | None = None,
    ) -> dict[str, MetricValue]:
        sample = SingleTurnSample(
            user_input=question,
            response=response,
            retrieved_contexts=retrieved_contexts,
            reference=reference,
            reference_contexts=reference_contexts,
        )
        values = {}
        for name, metric in self.metrics.items():
            if name in skip:
                continue
            missing = _missing_inputs(metric, sample)
            if missing:
                values[name] = MetricValue(None, f"no {missing} for this item")
                continue
            try:
                value = self._loop.run_until_complete(metric.single_turn_ascore(sample, timeout=self.timeout_s))
            except TimeoutError:
                values[name] = MetricValue(None, f"timed out after {self.timeout_s:.0f} s")
                continue
            except Exception as error:  # ragas raises many kinds; the item is kept with the reason
                values[name] = MetricValue(None, _reason(error))
                if on_failure:
                    on_failure(name, error)
                continue
            value = float(value)
            values[name] = MetricValue(None, "ragas returned NaN") if math.isnan(value) else MetricValue(value)
        return values


def _missing_inputs(metric, sample: SingleTurnSample) -> str | None:
    """The first required context list that is empty: ragas would assert on it rather than say so.

    An empty answer is not missing input: it is a wrong answer and scores as one."""
    required = metric.get_required_columns().get("SINGLE_TURN", set())
    for column in ("retrieved_contexts", "reference_contexts"):
        if column in required and not getattr(sample, column):
            return column
    return None


def _reason(error: BaseException) -> str:
    from ragas.exceptions import RagasOutputParserException

    if isinstance(error, RagasOutputParserException):
        return "judge output did not parse as the JSON ragas asked for"
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {message}"[:300]
