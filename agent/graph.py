"""The conversation as a LangGraph state machine:

    understand → identify → retrieve → decide → guard → act → respond
                                              ↘ escalate → respond → wait for a human
                           ↖ take_up (a request made after the yes) ↙

Every turn enters at `understand`. A write the profile wants confirmed is proposed and
waits for the customer's yes; what the agent must not decide becomes a case with a brief,
and the thread pauses (`interrupt`) until a human's reply resumes it (`Command(resume=…)`).
The nodes live in `agent.nodes`, one module each; this module only wires them.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from agent.nodes.act import act, after_act, take_up
from agent.nodes.decide import after_decide, decide
from agent.nodes.deps import AgentDeps
from agent.nodes.escalate import escalate
from agent.nodes.guard import after_guard, guard
from agent.nodes.identify import after_identify, identify
from agent.nodes.respond import after_respond, respond, wait_for_human
from agent.nodes.retrieve import after_retrieve, retrieve
from agent.nodes.understand import understand
from agent.state import ConversationState

__all__ = ["AgentDeps", "build_graph"]


def build_graph(deps: AgentDeps, checkpointer: BaseCheckpointSaver[Any] | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    deps.brain.attach(deps)
    graph = StateGraph(ConversationState)
    for name, node in (
        ("understand", understand),
        ("identify", identify),
        ("retrieve", retrieve),
        ("decide", decide),
        ("guard", guard),
        ("act", act),
        ("take_up", take_up),
        ("escalate", escalate),
        ("respond", respond),
    ):
        graph.add_node(name, partial(node, deps))
    graph.add_node("wait_for_human", wait_for_human)
    graph.add_edge(START, "understand")
    graph.add_edge("understand", "identify")
    graph.add_conditional_edges("identify", after_identify, ["retrieve", "respond", "escalate"])
    graph.add_conditional_edges("retrieve", after_retrieve, ["decide", "respond"])
    graph.add_conditional_edges("decide", after_decide, ["guard", "escalate", "respond"])
    graph.add_conditional_edges("guard", after_guard, ["act", "escalate", "respond"])
    graph.add_conditional_edges("act", after_act, ["escalate", "take_up", "respond"])
    graph.add_edge("take_up", "retrieve")
    graph.add_edge("escalate", "respond")
    graph.add_conditional_edges("respond", after_respond, ["wait_for_human", END])
    graph.add_edge("wait_for_human", END)
    return graph.compile(checkpointer=checkpointer)
