"""What every `hygie` sub-command needs: the settings, or a clear error, and the database."""

from __future__ import annotations

import click

from hygie.config import Settings, SettingsError
from hygie.db.engine import Database, make_engine


def settings_or_exit() -> Settings:
    try:
        return Settings.from_env()
    except (SettingsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def open_database(settings: Settings) -> Database:
    return Database(make_engine(settings.sqlalchemy_url))
