"""Read and write IMDF archives: a directory of .geojson files or the same files in a zip.

Reading only parses JSON and collects features per file; :mod:`.validation` judges them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import orjson

from hygie.location.venue.errors import ImdfError, ImdfProblem
from hygie.location.venue.model import FEATURE_TYPES, MANIFEST, ImdfArchive, file_name

MAX_ARCHIVE_BYTES = 50 * 1024 * 1024


def read_archive(source: Path | bytes) -> ImdfArchive:
    """Parse an IMDF archive from a directory, a .zip file or the bytes of a zip."""
    if isinstance(source, Path) and source.is_dir():
        files = {
            name: (source / name).read_bytes()
            for name in (MANIFEST, *(file_name(t) for t in FEATURE_TYPES))
            if (source / name).is_file()
        }
    else:
        data = source.read_bytes() if isinstance(source, Path) else source
        files = _zip_members(data)
    return _parse(files)


def _zip_members(data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImdfError([ImdfProblem("(archive)", None, "not a zip file")]) from None
    wanted = {MANIFEST, *(file_name(t) for t in FEATURE_TYPES)}
    members: dict[str, bytes] = {}
    total = 0
    for info in archive.infolist():
        # Archives made by hand often nest the files in one folder: use the base name.
        name = info.filename.rsplit("/", 1)[-1]
        if name not in wanted or info.is_dir():
            continue
        total += info.file_size
        if total > MAX_ARCHIVE_BYTES:
            raise ImdfError(
                [ImdfProblem(name, None, f"the archive unpacks to more than {MAX_ARCHIVE_BYTES} B")]
            )
        members[name] = archive.read(info)
    return members


def _parse(files: dict[str, bytes]) -> ImdfArchive:
    problems: list[ImdfProblem] = []
    manifest: dict[str, Any] = {}
    if MANIFEST not in files:
        problems.append(ImdfProblem(MANIFEST, None, "missing file"))
    else:
        parsed = _json(MANIFEST, files[MANIFEST], problems)
        if isinstance(parsed, dict):
            manifest = parsed
        elif parsed is not None:
            problems.append(ImdfProblem(MANIFEST, None, "must be a JSON object"))
    features: dict[str, list[dict[str, Any]]] = {}
    for feature_type in FEATURE_TYPES:
        name = file_name(feature_type)
        if name not in files:
            continue
        parsed = _json(name, files[name], problems)
        if parsed is None:
            continue
        if not isinstance(parsed, dict) or parsed.get("type") != "FeatureCollection":
            problems.append(ImdfProblem(name, None, "must be a GeoJSON FeatureCollection"))
            continue
        items = parsed.get("features")
        if not isinstance(items, list) or not all(isinstance(f, dict) for f in items):
            problems.append(ImdfProblem(name, None, "'features' must be a list of objects"))
            continue
        features[feature_type] = items
    if problems:
        raise ImdfError(problems)
    return ImdfArchive(manifest=manifest, features=features)


def _json(name: str, data: bytes, problems: list[ImdfProblem]) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        problems.append(ImdfProblem(name, None, f"not valid JSON ({exc})"))
        return None


def archive_files(archive: ImdfArchive) -> dict[str, bytes]:
    """The archive's files, by name: the manifest and one FeatureCollection per type."""
    files = {MANIFEST: orjson.dumps(archive.manifest, option=orjson.OPT_INDENT_2)}
    for feature_type in FEATURE_TYPES:
        if feature_type in archive.features:
            collection = {"type": "FeatureCollection", "features": archive.of_type(feature_type)}
            files[file_name(feature_type)] = orjson.dumps(collection, option=orjson.OPT_INDENT_2)
    return files


def write_zip(archive: ImdfArchive) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in archive_files(archive).items():
            # A fixed timestamp: the same archive always gives the same bytes.
            zf.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content)
    return buffer.getvalue()


def write_directory(archive: ImdfArchive, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in archive_files(archive).items():
        (directory / name).write_bytes(content)
