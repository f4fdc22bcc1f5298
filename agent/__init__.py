"""The conversation: graph, nodes, policy gate, urgency and the brains that propose actions."""
