"""The conversation graph's nodes: each a top-level function `node(deps, state) -> updates`,
testable on its own; `agent.graph` only wires them."""
