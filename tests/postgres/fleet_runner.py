"""One runner of a fleet, as a separate process: ``python fleet_runner.py DB_URL VENUE_URL NAME``.

Opens a client on the shared journal, says ``ready`` on stdout, waits for a line on stdin (so that
every runner starts resuming at the same moment), runs ``Client.resume()`` and prints one JSON line:
``{"runner", "ran": [job_id, ...], "reported": [[job_id, status], ...]}``. ``ran`` is what this
process worked on: the jobs its engine reported progress for while they still had unfinished orders
(a runner that merely looks at a job someone else finished sees only terminal orders).
"""

from __future__ import annotations

import json
import sys

from safecancel import Client, Credentials, VenueConfig
from safecancel.engine import RetryPolicy


def main() -> None:
    db_url, venue_url, name = sys.argv[1:4]
    ran: list[str] = []

    def progress(job_id: str, venue: str, counts: dict[str, int]) -> None:
        if job_id not in ran and any(counts.get(s) for s in ("pending", "sent", "unknown")):
            ran.append(job_id)

    client = Client(
        db_url,
        venues=[VenueConfig("binance_coinm", credentials=Credentials("test-key", "test-secret"), base_url=venue_url)],
        retry=RetryPolicy(base_delay=0.01, max_delay=0.2, async_first_query=0.05),
        environ={},
        owner=name,
        workers=2,
        deadline=45.0,
        on_progress=progress,
    )
    client.history(limit=1)  # open (and check) the journal before the start signal
    print("ready", flush=True)
    sys.stdin.readline()
    results = client.resume()
    client.close()
    print(json.dumps({"runner": name, "ran": ran, "reported": [[r.job_id, r.status] for r in results]}), flush=True)


if __name__ == "__main__":
    main()
