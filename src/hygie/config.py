"""One Settings object, read once from the ``HYGIE_*`` environment variables.

Every setting is documented in the README; ``tests/test_config.py`` fails when one is not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hygie.db.urls import normalize_database_url


class SettingsError(ValueError):
    """A HYGIE_* variable has a value Hygie cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Hygie's configuration. Build it with :meth:`from_env`; it never changes afterwards."""

    data_dir: Path = Path("var")
    database_url: str = field(default="", repr=False)  # may carry a password
    base_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 16 * 1024 * 1024
    default_page_size: int = 20
    max_page_size: int = 1000
    log_level: str = "INFO"
    mqtt_url: str = field(default="", repr=False)  # may carry a password
    # "production" refuses demo accounts and generated keys; "demo" creates what is missing.
    mode: str = "production"
    network_zones: str = "internal=127.0.0.0/8,::1/128"
    session_idle_seconds: int = 15 * 60
    session_max_seconds: int = 12 * 3600
    access_token_seconds: int = 300
    oidc_issuer: str = ""  # an external OpenID Connect provider for professionals
    oidc_client_id: str = ""
    oidc_client_secret: str = field(default="", repr=False)
    oidc_account_claim: str = "preferred_username"
    notify_period_seconds: int = 10  # first-access notifications; 0 turns them off

    @property
    def demo(self) -> bool:
        return self.mode == "demo"

    @property
    def sqlalchemy_url(self) -> str:
        """The SQLAlchemy URL: the configured one, or SQLite under the data directory."""
        if self.database_url:
            return normalize_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'hygie.sqlite3').resolve()}"

    @property
    def fhir_base_url(self) -> str:
        return self.base_url.rstrip("/") + "/fhir"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        log_level = env.get("HYGIE_LOG_LEVEL", "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError(
                f"HYGIE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}"
            )
        database_url = env.get("HYGIE_DATABASE_URL", "")
        if database_url:
            normalize_database_url(database_url)  # fail early on a URL we cannot use
        default_page = _int(env, "HYGIE_DEFAULT_PAGE_SIZE", 20)
        max_page = _int(env, "HYGIE_MAX_PAGE_SIZE", 1000)
        if default_page > max_page:
            raise SettingsError("HYGIE_DEFAULT_PAGE_SIZE must not exceed HYGIE_MAX_PAGE_SIZE")
        mode = env.get("HYGIE_MODE", "production").lower()
        if mode not in {"production", "demo"}:
            raise SettingsError(f"HYGIE_MODE must be production or demo, got {mode!r}")
        idle = _int(env, "HYGIE_SESSION_IDLE_SECONDS", 15 * 60, minimum=60)
        longest = _int(env, "HYGIE_SESSION_MAX_SECONDS", 12 * 3600, minimum=60)
        if idle > longest:
            raise SettingsError(
                "HYGIE_SESSION_IDLE_SECONDS must not exceed HYGIE_SESSION_MAX_SECONDS"
            )
        return cls(
            data_dir=Path(env.get("HYGIE_DATA_DIR") or "var"),
            database_url=database_url,
            base_url=env.get("HYGIE_BASE_URL") or "http://127.0.0.1:8000",
            max_body_bytes=_int(env, "HYGIE_MAX_BODY_BYTES", 16 * 1024 * 1024),
            default_page_size=default_page,
            max_page_size=max_page,
            log_level=log_level,
            mqtt_url=env.get("HYGIE_MQTT_URL", ""),
            mode=mode,
            network_zones=env.get("HYGIE_NETWORK_ZONES") or Settings.network_zones,
            session_idle_seconds=idle,
            session_max_seconds=longest,
            access_token_seconds=_int(env, "HYGIE_ACCESS_TOKEN_SECONDS", 300, minimum=30),
            oidc_issuer=env.get("HYGIE_OIDC_ISSUER", ""),
            oidc_client_id=env.get("HYGIE_OIDC_CLIENT_ID", ""),
            oidc_client_secret=env.get("HYGIE_OIDC_CLIENT_SECRET", ""),
            oidc_account_claim=env.get("HYGIE_OIDC_ACCOUNT_CLAIM") or "preferred_username",
            notify_period_seconds=_int(env, "HYGIE_NOTIFY_PERIOD_SECONDS", 10, minimum=0),
        )
