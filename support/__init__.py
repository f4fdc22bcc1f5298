"""The application: what the faces ask for, built on the agent and the domain."""
