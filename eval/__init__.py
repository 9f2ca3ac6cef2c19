"""Evaluation: QA sets, retrieval/answer/ragas metrics, the run store, statistics and reports.

Importing `lab` first makes every eval process offline and sets RAGAS_DO_NOT_TRACK before ragas loads.
"""

import lab  # noqa: F401
