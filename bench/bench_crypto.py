"""Encryption at rest: seal/open throughput, data-key costs, KEK rotation of 10,000 DEKs.

Writes bench/results/crypto.json. PostgreSQL runs in a scratch database created and dropped
on HYGIE_TEST_POSTGRES_URL's server (default postgresql://postgres@127.0.0.1:5432/postgres).

    uv run python bench/bench_crypto.py [--backends sqlite,postgresql] [--deks 10000]
"""

from __future__ import annotations

import argparse
import json
import platform
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cryptography

from hygie.db.engine import Database, make_engine
from hygie.db.migrate import upgrade
from hygie.db.scratch import scratch_database_url
from hygie.security.crypto import KekSet, Keyring, rotate
from hygie.security.crypto.tables import security_data_key
from hygie.security.crypto.wrapping import unwrap_dek, wrap_dek

ROOT = Path(__file__).resolve().parents[1]


def timed(run: Callable[[], object], repeat: int) -> float:
    """Seconds per call, best of three rounds of ``repeat`` calls."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            run()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best


def throughput(keyring: Keyring, size: int, repeat: int) -> dict[str, float]:
    payload = secrets.token_bytes(size)
    aad = b"Binary/bench/_history/1"
    keyring.encrypt("Patient/bench", payload, aad=aad)  # the DEK exists and is cached
    blob = keyring.encrypt("Patient/bench", payload, aad=aad)
    seal = timed(lambda: keyring.encrypt("Patient/bench", payload, aad=aad), repeat)
    unseal = timed(lambda: keyring.decrypt("Patient/bench", blob, aad=aad), repeat)
    return {
        "payload_bytes": size,
        "encrypt_ops_per_s": round(1 / seal),
        "encrypt_mb_per_s": round(size / seal / 1e6, 1),
        "decrypt_ops_per_s": round(1 / unseal),
        "decrypt_mb_per_s": round(size / unseal / 1e6, 1),
    }


def data_key_costs(db: Database, keks: KekSet) -> dict[str, float]:
    refs = [f"Patient/cold-{n}" for n in range(200)]
    first = Keyring(db, keks)
    start = time.perf_counter()
    blobs = [first.encrypt(ref, b"x", aad=b"") for ref in refs]
    create_s = (time.perf_counter() - start) / len(refs)
    # A one-entry cache: every decrypt reads the row and unwraps the DEK.
    cold = Keyring(db, keks, cache_size=1)
    start = time.perf_counter()
    for ref, blob in zip(refs, blobs, strict=True):
        cold.decrypt(ref, blob, aad=b"")
    cold_s = (time.perf_counter() - start) / len(refs)
    dek_id = secrets.token_bytes(16)
    kek_id, wrapped = wrap_dek(keks, secrets.token_bytes(32), dek_id=dek_id, patient_ref="P/1")
    unwrap_s = timed(
        lambda: unwrap_dek(keks, wrapped, kek_id=kek_id, dek_id=dek_id, patient_ref="P/1"), 2000
    )
    return {
        "unwrap_us": round(unwrap_s * 1e6, 1),
        "cold_decrypt_row_read_and_unwrap_us": round(cold_s * 1e6, 1),
        "first_encrypt_creates_dek_ms": round(create_s * 1e3, 2),
    }


def rotation(db: Database, old: KekSet, deks: int) -> dict[str, float]:
    rows = []
    for n in range(deks):
        dek_id, ref = secrets.token_bytes(16), f"Patient/rot-{n}"
        kek_id, wrapped = wrap_dek(old, secrets.token_bytes(32), dek_id=dek_id, patient_ref=ref)
        rows.append(
            {"patient_ref": ref, "dek_id": dek_id, "kek_id": kek_id, "wrapped_dek": wrapped}
        )
    with db.write() as conn:
        conn.execute(security_data_key.insert().values(created_at_us=0), rows)
    new = KekSet("kek-new", {**old.keys, "kek-new": secrets.token_bytes(32)})
    start = time.perf_counter()
    report = rotate(db, new, batch_size=500)
    elapsed = time.perf_counter() - start
    return {
        "deks": report.rewrapped,
        "batch_size": 500,
        "seconds": round(elapsed, 2),
        "deks_per_s": round(report.rewrapped / elapsed),
    }


@contextmanager
def scratch_database(backend: str) -> Iterator[Database]:
    with tempfile.TemporaryDirectory() as tmp, scratch_database_url(backend, Path(tmp)) as url:
        db = Database(make_engine(url))
        try:
            yield db
        finally:
            db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--deks", type=int, default=10_000, help="DEKs to rotate")
    args = parser.parse_args()
    keks = KekSet("kek-old", {"kek-old": secrets.token_bytes(32)})
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cryptography": cryptography.__version__},
        "note": "best of 3 rounds; 1 MB = 10^6 bytes",
    }
    for backend in args.backends.split(","):
        with scratch_database(backend) as db:
            upgrade(db.engine)
            keyring = Keyring(db, keks)
            results[backend] = {
                "throughput_4kb": throughput(keyring, 4096, 2000),
                "throughput_1mb": throughput(keyring, 1 << 20, 30),
                "data_keys": data_key_costs(db, keks),
            }
        with scratch_database(backend) as db:  # rotation alone: exactly --deks keys
            upgrade(db.engine)
            results[backend]["rotation"] = rotation(db, keks, args.deks)
    out = ROOT / "bench" / "results" / "crypto.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
