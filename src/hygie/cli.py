"""The ``hygie`` command: a thin layer over the same services the web app uses."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from hygie import __version__
from hygie.cli_support import STARTUP_ERRORS, open_database, security_or_exit, settings_or_exit
from hygie.identity.cli import identity
from hygie.location.cli import location
from hygie.security.accounts.cli import users
from hygie.security.audit.cli import audit
from hygie.security.crypto.cli import keys
from hygie.security.oauth.cli import clients


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hygie")
def main() -> None:
    """Hygie: zero-trust e-health platform (FHIR R4 store, health space, connected hospital).

    Configuration comes from HYGIE_* environment variables (see the README).
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin list is noise


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (PostgreSQL deployments; SQLite is best with one).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app and the FHIR API (http://HOST:PORT/fhir)."""
    import uvicorn

    from hygie.app import create_app

    if not os.environ.get("HYGIE_BASE_URL"):
        # Links and Location headers name the address actually served (uvicorn's workers
        # build the app from the environment, so it is passed on that way).
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        os.environ["HYGIE_BASE_URL"] = f"http://{shown}:{port}"
    settings = settings_or_exit()
    logging.getLogger().setLevel(settings.log_level)
    try:
        # Fail here, with a clear message, rather than in a worker.
        create_app(settings).state.security.audit_sink.close()
    except STARTUP_ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Hygie {__version__} on http://{host}:{port} (FHIR base {settings.fhir_base_url})")
    if settings.demo:
        listing = settings.data_dir / "demo-accounts.txt"
        click.echo("DEMO MODE: never with real patients' data.")
        if listing.exists():
            click.echo(listing.read_text(), nl=False)
    uvicorn.run(
        "hygie.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level=settings.log_level.lower(),
        loop="uvloop",
        http="httptools",
    )


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    from hygie.db.migrate import current_revision, upgrade

    settings = settings_or_exit()
    db = open_database(settings)
    try:
        before = current_revision(db.engine)
        upgrade(db.engine)
        after = current_revision(db.engine)
    finally:
        db.dispose()
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"database migrated from {before or 'empty'} to {after}")


@main.command()
def demo() -> None:
    """Load the demo hospital (idempotent): organisation, staff, patients, records, map,
    and the demo accounts (HYGIE_MODE=demo only)."""
    from hygie.db.migrate import upgrade
    from hygie.demo import load_demo
    from hygie.demo_accounts import create_demo_accounts
    from hygie.location.venue import load_demo_venue
    from hygie.record.demo_documents import add_demo_documents
    from hygie.security.pep import system_audit

    settings = settings_or_exit()
    if not settings.demo:
        raise click.ClickException(
            "the demo accounts' secrets are public: run `hygie demo` with HYGIE_MODE=demo"
        )
    db = open_database(settings)
    try:
        upgrade(db.engine)
        security = security_or_exit(settings, db)
        try:
            audit = system_audit(security.audit_sink)
            click.echo(load_demo(security.store, settings.fhir_base_url, audit=audit))
            click.echo(add_demo_documents(security.store, settings.fhir_base_url, audit=audit))
            venue = load_demo_venue(db, security.store)
            click.echo(f"demo map: {venue.venue.name}, {len(venue.locations)} FHIR Locations")
            listing = create_demo_accounts(security.accounts, security.store, settings.data_dir)
            click.echo(listing.read_text(), nl=False)
        finally:
            security.audit_sink.close()
    finally:
        db.dispose()


@main.command(name="import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def import_(files: tuple[Path, ...]) -> None:
    """Load FHIR JSON files: transaction or batch Bundles, or single resources."""
    from hygie.fhir.importer import import_file
    from hygie.security.pep import system_audit

    settings = settings_or_exit()
    db = open_database(settings)
    failed = False
    try:
        security = security_or_exit(settings, db)
        store = security.store
        audit = system_audit(security.audit_sink)
        for path in files:
            try:
                done = import_file(store, path, settings.fhir_base_url, audit=audit)
                click.echo(f"{path}: {done}")
            except ValueError as exc:
                failed = True
                click.echo(f"{path}: refused: {exc}", err=True)
        security.audit_sink.close()
    finally:
        db.dispose()
    if failed:
        sys.exit(1)


main.add_command(location)
main.add_command(audit)
main.add_command(keys)
main.add_command(users)
main.add_command(clients)
main.add_command(identity)
