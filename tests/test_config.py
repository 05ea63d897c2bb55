"""Settings: defaults, errors, and every HYGIE_* variable documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hygie.config import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_in_the_code_is_documented_in_the_readme() -> None:
    code = "".join(p.read_text() for p in (ROOT / "src" / "hygie").rglob("*.py"))
    used = set(re.findall(r"HYGIE_[A-Z_]+", code)) - {"HYGIE_"}
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in used if f"`{name}`" not in readme)
    assert missing == []


def test_defaults_are_sqlite_under_var() -> None:
    settings = Settings.from_env({})
    assert settings.sqlalchemy_url.endswith("var/hygie.sqlite3")
    assert settings.fhir_base_url == "http://127.0.0.1:8000/fhir"


def test_plain_postgresql_url_uses_psycopg() -> None:
    settings = Settings.from_env({"HYGIE_DATABASE_URL": "postgresql://hygie@db:5432/hygie"})
    assert settings.sqlalchemy_url == "postgresql+psycopg://hygie@db:5432/hygie"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"HYGIE_MAX_BODY_BYTES": "lots"}, "whole number"),
        ({"HYGIE_MAX_PAGE_SIZE": "0"}, "at least 1"),
        ({"HYGIE_DEFAULT_PAGE_SIZE": "50", "HYGIE_MAX_PAGE_SIZE": "10"}, "must not exceed"),
        ({"HYGIE_LOG_LEVEL": "LOUD"}, "HYGIE_LOG_LEVEL"),
        ({"HYGIE_NOTIFY_PERIOD_SECONDS": "-1"}, "at least 0"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        Settings.from_env(env)


def test_first_access_notifications_can_be_turned_off() -> None:
    assert Settings.from_env({}).notify_period_seconds == 10
    assert Settings.from_env({"HYGIE_NOTIFY_PERIOD_SECONDS": "0"}).notify_period_seconds == 0


def test_a_bad_database_url_never_echoes_its_password() -> None:
    with pytest.raises(ValueError) as error:
        Settings.from_env({"HYGIE_DATABASE_URL": "oracle://admin:s3cret@db/x"})
    assert "s3cret" not in str(error.value)
