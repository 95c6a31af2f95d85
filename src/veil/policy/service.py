"""The service part of a policy: limits of the HTTP API, sessions, and the privacy center's mail server."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Smtp(BaseModel):
    """Where the privacy center sends one-time codes. The password is read from an environment variable."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(min_length=3, description="From address of the codes")
    starttls: bool = True
    username: str = ""
    password_env: str = Field(default="", description="environment variable holding the SMTP password")
    timeout_seconds: float = Field(default=10.0, gt=0)


class Center(BaseModel):
    """The privacy center for data subjects (``/center``)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    title: str = "Your privacy"
    purposes: list[str] | None = Field(default=None, description="purposes shown (default: the consent-based ones)")
    code_minutes: int = Field(default=10, ge=1, le=60, description="how long a one-time code stays valid")
    notice_version: str = ""


class ServicePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    max_body_bytes: int = Field(default=8_000_000, ge=1024)
    max_he_body_bytes: int = Field(
        default=256_000_000, ge=1024, description="/v1/he: a batch of 4,096 encrypted records is about 30 MB"
    )
    rate_per_minute: int = Field(default=6_000, ge=1, description="requests per principal per minute")
    session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    smtp: Smtp | None = None
    center: Center = Center()
