"""The LLM brain: the model connection (`transport`), what the model is told (`prompt`) and the
brain that plans turns with it (`brain`)."""

from __future__ import annotations

from agent.llm.brain import POLICY_INTENTS, UNDERSTANDING_SCHEMA, LLMBrain, make_brain
from agent.llm.prompt import (
    CATALOGUE_TOOLS,
    ESCALATE_TOOL,
    PROMPTS,
    READ_TOOLS,
    WRITE_TOOLS,
    PromptBudget,
    build_messages,
    estimate_tokens,
    summarise,
    system_template,
    tool_definitions,
)
from agent.llm.transport import CircuitBreaker, Completion, ModelClient, ModelUnavailable, ToolCall, Usage

__all__ = [
    "CATALOGUE_TOOLS",
    "ESCALATE_TOOL",
    "POLICY_INTENTS",
    "PROMPTS",
    "READ_TOOLS",
    "UNDERSTANDING_SCHEMA",
    "WRITE_TOOLS",
    "CircuitBreaker",
    "Completion",
    "LLMBrain",
    "ModelClient",
    "ModelUnavailable",
    "PromptBudget",
    "ToolCall",
    "Usage",
    "build_messages",
    "estimate_tokens",
    "make_brain",
    "summarise",
    "system_template",
    "tool_definitions",
]
