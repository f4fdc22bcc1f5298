"""The HTTP API: the customer's conversations, the agent console and the admin, behind
conversation tokens, staff sessions and API tokens."""
