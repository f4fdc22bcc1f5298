"""Every word the agent says or is told."""
