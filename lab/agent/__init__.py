"""The agent behind Agentic RAG: a ReAct loop over search tools, with planning, reflection and
verification, decided by likelihood within a budget.

It imports the rooms below it (`lab.kb`, `lab.graph`, `lab.llm`), `lab.context` and `lab.core`.
"""

from lab.agent.loop import Agent
from lab.agent.prompts import support_prompt
from lab.agent.records import AgentParams

__all__ = [
    "Agent",
    "AgentParams",
    "support_prompt",
]
