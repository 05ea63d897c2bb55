"""Print an access token of a new backend service of a running Hygie (system/*.cruds).

The client is registered with ``hygie clients create`` (same HYGIE_* environment as the
server), then the token comes from ``/oauth/token`` (client_credentials): what an
integrating system does. Usage: ``python bench/backend_token.py http://127.0.0.1:8010``.
Tokens live ``HYGIE_ACCESS_TOKEN_SECONDS``: start the server with a long enough one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx

HYGIE = str(Path(sys.executable).parent / "hygie")
SCOPE = "system/*.cruds"


def backend_token(base_url: str, env: Mapping[str, str] | None = None) -> str:
    created = subprocess.run(
        [HYGIE, "clients", "create", "--name", "bench", "--type", "backend", "--scope", SCOPE],
        env=dict(os.environ if env is None else env),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    fields = dict(line.split(": ", 1) for line in created.stdout.splitlines() if ": " in line)
    response = httpx.post(
        base_url.rstrip("/") + "/oauth/token",
        data={"grant_type": "client_credentials", "scope": SCOPE},
        auth=(fields["client_id"], fields["client_secret"]),
        timeout=10,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


if __name__ == "__main__":
    print(backend_token(sys.argv[1]))
