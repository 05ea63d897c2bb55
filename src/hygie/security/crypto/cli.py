"""``hygie keys``: key-encryption keys and patients' data keys, for operators."""

from __future__ import annotations

import os
from pathlib import Path

import click

from hygie.cli_support import migrated_database, settings_or_exit
from hygie.config import Settings
from hygie.db.engine import Database
from hygie.security.crypto.errors import CryptoError
from hygie.security.crypto.kek import KekSet, add_kek, load_keks
from hygie.security.crypto.rotation import key_status, rotate
from hygie.security.crypto.tables import security_data_key


def _keks(settings: Settings) -> KekSet:
    try:
        return load_keks(data_dir=settings.data_dir, allow_generate=settings.demo)
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from None


def _open(settings: Settings) -> Database:
    return migrated_database(settings, security_data_key, "data-key")


@click.group(name="keys")
def keys() -> None:
    """Encryption at rest: KEKs (HYGIE_KEK_FILE or HYGIE_KEK) and per-patient data keys."""


@keys.command(name="status")
def status_command() -> None:
    """The active KEK and how many data keys each KEK wraps."""
    settings = settings_or_exit()
    keks = _keks(settings)
    db = _open(settings)
    try:
        report = key_status(db, keks)
    finally:
        db.dispose()
    click.echo(f"active KEK: {report.active_kek}")
    click.echo(f"loaded KEKs: {', '.join(report.loaded_keks)}")
    for kek_id in sorted(set(report.deks_by_kek) | set(report.loaded_keks)):
        note = (
            " (NOT LOADED: these data keys cannot be read)" if kek_id in report.missing_keks else ""
        )
        click.echo(f"data keys under {kek_id}: {report.deks_by_kek.get(kek_id, 0)}{note}")
    click.echo(f"destroyed data keys: {report.destroyed}")


@keys.command(name="rotate")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True)
def rotate_command(batch_size: int) -> None:
    """Rewrap every data key under the key file's active KEK (safe to rerun if interrupted)."""
    settings = settings_or_exit()
    keks = _keks(settings)
    db = _open(settings)
    try:
        report = rotate(db, keks, batch_size=batch_size)
    except CryptoError as exc:
        raise click.ClickException(f"{exc} (rerun `hygie keys rotate` once fixed)") from None
    finally:
        db.dispose()
    click.echo(
        f"rewrapped {report.rewrapped} data keys in {report.batches} batches; "
        f"{report.under_active} data keys now under {report.active_kek}"
    )


@keys.command(name="new-kek")
@click.option("--id", "kek_id", default=None, help="Id of the new KEK (default: kek-<UTC time>).")
def new_kek_command(kek_id: str | None) -> None:
    """Add a random KEK to HYGIE_KEK_FILE and make it active; then run `hygie keys rotate`."""
    path = os.environ.get("HYGIE_KEK_FILE", "")
    if not path:
        raise click.ClickException("new-kek writes to the key file: set HYGIE_KEK_FILE")
    try:
        new_id = add_kek(Path(path), kek_id)
    except CryptoError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"KEK {new_id} added to {path} and made active; restart Hygie's processes, then")
    click.echo(
        "run `hygie keys rotate`; remove the old KEK once `hygie keys status` shows 0 under it"
    )
