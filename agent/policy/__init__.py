"""The seller's policy: the profile schema (`schema`), loading profile files (`loader`) and the
gate that judges each proposed tool call against a profile (`gate`)."""

from __future__ import annotations

from agent.policy.gate import PROOF_FOR_WRITES, ActionRequest, GateDecision, ItemFacts, OrderFacts, PolicyGate, Verdict
from agent.policy.loader import ProfileError, available_profiles, load_profile, profile_dir
from agent.policy.schema import READ_TOOLS, WRITE_TOOLS, ActionRule, IdentityMethod, PolicyProfile

__all__ = [
    "PROOF_FOR_WRITES",
    "READ_TOOLS",
    "WRITE_TOOLS",
    "ActionRequest",
    "ActionRule",
    "GateDecision",
    "IdentityMethod",
    "ItemFacts",
    "OrderFacts",
    "PolicyGate",
    "PolicyProfile",
    "ProfileError",
    "Verdict",
    "available_profiles",
    "load_profile",
    "profile_dir",
]
