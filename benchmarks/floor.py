"""The CPU floor for W1: the same records read over HTTP, parsed and written to DuckDB by the
shortest plain script (no dlt, no checks, no state), to measure the connector's CPU against.

    SANDBOX_URL=http://127.0.0.1:PORT python benchmarks/floor.py [out.duckdb]

Each window asks for 30 pages of 50 from the last second read (`[gte]`, ascending); ids already
read are skipped. Nested values are stored as JSON text, as the connector stores them.
"""

import json
import os
import sys
from datetime import datetime

import duckdb
import pyarrow as pa
import requests

STREAMS = {"end_users": "updated", "responses": "created", "declines": "created"}


def main() -> None:
    url = os.environ["SANDBOX_URL"]
    session = requests.Session()
    session.trust_env = False  # loopback: no proxy settings re-read from the environment per request
    grant = {"grant_type": "client_credentials", "client_id": "sandbox-client", "client_secret": "sandbox-secret"}
    token = session.post(f"{url}/oauth/token", data=grant).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    con = duckdb.connect(sys.argv[1] if len(sys.argv) > 1 else "floor.duckdb")
    for stream, field in STREAMS.items():
        rows, seen, since = [], set(), 0
        params = {"per_page": 50, "sort_order": "asc", "sort_key": "updated_at", "excluded_from_calculations": "true"}
        while True:
            for page in range(1, 31):
                query = {**params, f"{field}[gte]": since, "page": page}
                batch = session.get(f"{url}/v1/{stream}", params=query).json()
                rows += [r for r in batch if r["id"] not in seen]
                seen.update(r["id"] for r in batch)
                if len(batch) < 50:
                    break
            last = datetime.strptime(rows[-1][f"{field}_at"], "%Y-%m-%d %H:%M:%S %z").timestamp()
            if len(batch) < 50 or last == since:
                break
            since = int(last)
        for row in rows:
            row.update({k: json.dumps(v) for k, v in row.items() if isinstance(v, (dict, list))})
        con.from_arrow(pa.Table.from_pylist(rows)).create(stream)
        print(stream, len(rows))


if __name__ == "__main__":
    main()
