"""Key files on disk: created whole with mode 0600, refused when others can read them."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


class KeyFileError(RuntimeError):
    """A key file that is missing, unreadable or readable by group or others."""


def write_private(path: Path, content: bytes) -> None:
    """Write a new file that only its owner can read or write."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())


def create_exclusive(path: Path, content: bytes) -> None:
    """Create ``path`` whole or not at all; if another process created it first, theirs stands."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    write_private(staging, content)
    try:
        os.link(staging, path)  # fails if it exists: never half a file, never two keys
    except FileExistsError:
        pass
    finally:
        staging.unlink()


def read_private(path: Path, what: str) -> bytes:
    """The bytes of a key file that only its owner may read; ``what`` names it in errors."""
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise KeyFileError(
                f"{what} {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}"
            )
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{what} {path}: {exc.strerror}") from None
