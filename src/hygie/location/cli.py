"""``hygie location``: survey and accuracy tools for WiFi positioning."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from hygie.cli_support import open_database, settings_or_exit
from hygie.location.positioning import (
    Positioner,
    RadioMap,
    RadioMapError,
    coverage,
    evaluate,
    read_radio_map,
)

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _load(path: Path) -> RadioMap:
    try:
        return read_radio_map(path)
    except RadioMapError as exc:
        raise click.ClickException(str(exc)) from None


@click.group(name="location")
def location() -> None:
    """Indoor location tools (WiFi radio maps in the UJIIndoorLoc CSV layout)."""


@location.command(name="evaluate")
@click.option("--train", "train_path", type=_FILE, required=True, help="Radio map CSV(.gz).")
@click.option("--test", "test_path", type=_FILE, required=True, help="Scans with known positions.")
def evaluate_command(train_path: Path, test_path: Path) -> None:
    """Fit the positioner on TRAIN, locate every TEST scan, print the figures as JSON."""
    positioner = Positioner.fit(_load(train_path))
    try:
        figures = evaluate(positioner, _load(test_path))
    except RadioMapError as exc:
        raise click.ClickException(f"{test_path}: {exc}") from None
    click.echo(orjson.dumps(figures).decode())


@location.command(name="coverage")
@click.option("--train", "train_path", type=_FILE, required=True, help="Radio map CSV(.gz).")
@click.option("--cell", "cell_m", type=click.FloatRange(min=0.5), default=5.0, show_default=True)
@click.option(
    "--gap",
    "gap_m",
    type=click.FloatRange(min=0.5),
    default=10.0,
    show_default=True,
    help="A cell is a gap when no fingerprint of its level lies within this distance.",
)
def coverage_command(train_path: Path, cell_m: float, gap_m: float) -> None:
    """Per building and level: fingerprints, reference points, APs heard, gap cells (JSON)."""
    report = coverage(_load(train_path), cell_m=cell_m, gap_m=gap_m)
    click.echo(orjson.dumps([row.as_dict() for row in report], option=orjson.OPT_INDENT_2).decode())


@location.command(name="venue-import")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
def venue_import_command(source: Path) -> None:
    """Import an IMDF venue (a folder of .geojson files or a .zip); updates it if known."""
    from hygie.fhir.store import FhirStore
    from hygie.location.venue import ImdfError, import_venue

    db = open_database(settings_or_exit())
    try:
        result = import_venue(db, FhirStore(db), source)
    except ImdfError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(
        f"venue {result.venue.name} ({result.venue.venue_id}): "
        f"{len(result.locations)} FHIR Locations"
    )


@location.command(name="venue-export")
@click.argument("venue_id")
@click.argument("output", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def venue_export_command(venue_id: str, output: Path) -> None:
    """Export a stored venue as an IMDF zip archive."""
    from hygie.location.venue import UnknownVenue, export_venue, venues

    db = open_database(settings_or_exit())
    try:
        output.write_bytes(export_venue(db, venue_id))
    except UnknownVenue:
        known = ", ".join(v.venue_id for v in venues(db)) or "none"
        raise click.ClickException(f"no venue {venue_id!r} (known: {known})") from None
    finally:
        db.dispose()
    click.echo(f"{output}: IMDF archive of {venue_id}")


@location.command(name="radiomap-import")
@click.argument("file", type=_FILE)
@click.option("--replace", is_flag=True, help="Replace the whole stored radio map with FILE.")
@click.option("--source", help="Label kept with these fingerprints (default: the file name).")
def radiomap_import_command(file: Path, replace: bool, source: str | None) -> None:
    """Store the fingerprints of a UJIIndoorLoc-layout CSV(.gz) in the radio map that the
    running app locates scans with (it retrains within seconds)."""
    from hygie.location.radiomap import import_radio_map

    db = open_database(settings_or_exit())
    try:
        result = import_radio_map(db, file, replace=replace, source=source)
    except RadioMapError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(
        f"{result.source}: {result.fingerprints} fingerprints, {result.access_points} access "
        f"points heard; radio map version {result.version}"
        + (" (replaced the previous map)" if result.replaced else "")
    )


@location.command(name="radiomap-info")
def radiomap_info_command() -> None:
    """The stored radio map as JSON: imports, access points, and per building and level
    the fingerprints, survey points and access points heard."""
    from hygie.location.radiomap import radio_map_info

    db = open_database(settings_or_exit())
    try:
        info = radio_map_info(db)
    finally:
        db.dispose()
    click.echo(orjson.dumps(info, option=orjson.OPT_INDENT_2).decode())
