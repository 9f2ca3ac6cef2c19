"""The agent behind Agentic RAG: a ReAct loop over search tools, with planning, reflection and
verification, decided by likelihood within a budget; and the team behind Multi-agent RAG (`team`).

It imports the rooms below it (`lab.kb`, `lab.graph`, `lab.llm`), `lab.context` and `lab.core`.
"""

from lab.agent.loop import Agent
from lab.agent.planning import plan
from lab.agent.prompts import support_prompt
from lab.agent.records import NOT_FOUND, AgentParams
from lab.agent.team import (
    CONSENSUS,
    MANAGER,
    Researcher,
    Team,
    assign,
    distinct_proposals,
    form_team,
    likelihood_shares,
    propose,
    research,
    tally,
)

__all__ = [
    "Agent",
    "AgentParams",
    "CONSENSUS",
    "MANAGER",
    "NOT_FOUND",
    "Researcher",
    "Team",
    "assign",
    "distinct_proposals",
    "form_team",
    "likelihood_shares",
    "plan",
    "propose",
    "research",
    "support_prompt",
    "tally",
]
