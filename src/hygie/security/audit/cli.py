"""``hygie audit``: check the log against its stored hashes and signed tree heads."""

from __future__ import annotations

import base64

import click

from hygie.cli_support import open_database, settings_or_exit
from hygie.security.audit.errors import AuditKeyError
from hygie.security.audit.service import AuditLog
from hygie.security.audit.signing import TreeHeadSigner, load_signer
from hygie.security.audit.verify import verify_log


def _signer() -> TreeHeadSigner:
    settings = settings_or_exit()
    try:
        return load_signer(data_dir=settings.data_dir, allow_generate=settings.demo)
    except AuditKeyError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(name="audit")
def audit() -> None:
    """The tamper-evident audit log (signing key: HYGIE_AUDIT_KEY_FILE)."""


@audit.command(name="verify")
def verify_command() -> None:
    """Recompute the Merkle tree from every entry; exit 1 and name the first bad entry."""
    verifier = _signer().verifier
    db = open_database(settings_or_exit())
    try:
        report = verify_log(db, verifier)
    finally:
        db.dispose()
    if not report.ok:
        where = (
            "" if report.first_bad_index is None else f" (first bad index {report.first_bad_index})"
        )
        raise click.ClickException(f"audit log TAMPERED{where}: {report.problem}")
    click.echo(
        f"audit log intact: {report.tree_size} entries, "
        f"{report.signed_heads} signed tree heads verified"
    )


@audit.command(name="sth")
def sth_command() -> None:
    """Sign (if the log grew) and print the current tree head."""
    signer = _signer()
    db = open_database(settings_or_exit())
    try:
        sth = AuditLog(db, signer).signed_tree_head()
    finally:
        db.dispose()
    click.echo(
        f"tree_size={sth.tree_size} timestamp={sth.timestamp_ms} "
        f"root={base64.b64encode(sth.root_hash).decode()} key_id={sth.key_id}"
    )
