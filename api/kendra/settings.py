"""Settings of the Kendra-compatible API (``QUARRY_KENDRA_*``), apart from the core's.

Access keys map an AWS-style access key id to a *reference* to its secret key
(``env:NAME`` or ``file:/path``), read when a request signed with that key arrives, so a
rotated file secret takes effect without a restart and no secret sits in the configuration.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from acl import SecretRef

_ACCESS_KEY_ID = re.compile(r"^[A-Z0-9]{16,128}$")
_SCOPE_PART = re.compile(r"^[a-z0-9-]{1,64}$")


class KendraSettings(BaseSettings):
    """``QUARRY_KENDRA_ACCESS_KEYS='{"AKIA...": "env:KENDRA_SECRET"}'`` enables the API."""

    model_config = SettingsConfigDict(
        env_prefix="QUARRY_KENDRA_", extra="ignore", hide_input_in_errors=True
    )

    access_keys: dict[str, SecretRef] = Field(default_factory=dict)
    """Access key id → secret reference; empty (the default) turns the Kendra API off."""
    query_only_keys: list[str] = Field(default_factory=list)
    """Access key ids limited to Query, Retrieve and SubmitFeedback (for front ends)."""
    region: str = "us-east-1"
    """The region clients sign for (the credential scope's region)."""
    service: str = "kendra"
    """The service name in the credential scope."""
    max_clock_skew_s: int = Field(default=900, ge=60, le=3600)
    """A request whose X-Amz-Date is further than this from the server's clock is refused."""

    @field_validator("access_keys")
    @classmethod
    def _key_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for key_id in value:
            if not _ACCESS_KEY_ID.match(key_id):
                # The id is not secret, but a pasted secret key could land here: not echoed.
                raise ValueError("access key ids are 16-128 upper-case letters and digits")
        return value

    @field_validator("region", "service")
    @classmethod
    def _scope(cls, value: str) -> str:
        if not _SCOPE_PART.match(value):
            raise ValueError("must be lower-case letters, digits and '-'")
        return value
