"""The agent's few-shot prompts: the worked examples and the builders that end each on the choice to score.

The 270M base generator follows a pattern rather than an instruction, so each decision's prompt is a pair
of worked examples and then the case at hand, cut off where the scored continuation (" yes"/" no", a tool
name, an entity) goes. Kept apart from the loop so the wording can be read, and reused (Self-RAG uses
`support_prompt`), on its own.
"""

from collections.abc import Sequence

from lab.core import examples
from lab.core.contracts import Passage

PASSAGE_CHARS = 240
"""Characters of each passage a decision prompt shows: a cost bound for the small model's context, chosen by hand."""

_MANUAL = f"Passage ({examples.MANUAL_TITLE}): {examples.MANUAL_PASSAGE}\n"
_SUFFICIENCY_EXAMPLES = (
    f"{_MANUAL}Question: {examples.DIRECT_QUESTION}\nEnough to answer: yes\n\n"
    f"{_MANUAL}Question: {examples.BRIDGE_QUESTION}\nEnough to answer: no\n\n"
)
_SUPPORT_EXAMPLES = (
    f"{_MANUAL}Question: {examples.DIRECT_QUESTION}\nAnswer: {examples.DIRECT_ANSWER}\nSupported: yes\n\n"
    f"{_MANUAL}Question: {examples.DIRECT_QUESTION}\nAnswer: {examples.WRONG_ANSWER}\nSupported: no\n\n"
)
_MULTI_HOP_EXAMPLES = (
    f"Question: {examples.DIRECT_QUESTION}\nAre follow up questions needed here: no\n\n"
    f"Question: {examples.BRIDGE_QUESTION}\nAre follow up questions needed here: yes\n\n"
)
_ACTION_EXAMPLES = (
    "Tools: graph looks up a named entity and its links; search finds passages like a query; "
    "keyword finds passages sharing its words; finish answers.\n\n"
    f"Question: {examples.DIRECT_QUESTION}\n"
    "Thought: The question names the Lumen 3 lamp; look it up.\n"
    "Action: graph\n\n"
    f"Question: {examples.SEARCH_QUESTION}\n"
    "Thought: The question names nothing to look up; search for it.\n"
    "Action: search\n\n"
)
_BRIDGE_EXAMPLE = f"{_MANUAL}Question: {examples.BRIDGE_QUESTION}\nNext to look up: {examples.BRIDGE_ENTITY}\n\n"


def multi_hop_prompt(question: str) -> str:
    return _MULTI_HOP_EXAMPLES + f"Question: {question}\nAre follow up questions needed here:"


def action_prompt(sub_question: str, thought: str) -> str:
    return _ACTION_EXAMPLES + f"Question: {sub_question}\nThought: {thought}\nAction:"


def bridge_prompt(passages: Sequence[Passage], question: str) -> str:
    return _BRIDGE_EXAMPLE + passage_lines(passages) + f"Question: {question}\nNext to look up:"


def sufficiency_prompt(passages: Sequence[Passage], question: str) -> str:
    return _SUFFICIENCY_EXAMPLES + passage_lines(passages) + f"Question: {question}\nEnough to answer:"


def support_prompt(passages: Sequence[Passage], question: str, answer: str) -> str:
    return _SUPPORT_EXAMPLES + passage_lines(passages) + f"Question: {question}\nAnswer: {answer}\nSupported:"


def passage_lines(passages: Sequence[Passage]) -> str:
    return "".join(f"Passage ({p.doc_title}): {' '.join(p.text.split())[:PASSAGE_CHARS]}\n" for p in passages)
