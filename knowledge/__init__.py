"""The policy knowledge base."""
