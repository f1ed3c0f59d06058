"""What the emulator has seen, for tests that assert on traffic rather than on answers.

The typical question is "was any job submitted twice?": every created job is
counted under the fingerprint of its input (sha256 of canonical JSON), so a
client that retried a lost `/run` answer shows up as a fingerprint counted twice.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from typing import Any


def fingerprint(value: Any) -> str:
    """sha256 of the canonical JSON of a job input (sorted keys, no whitespace)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Counters:
    """Counts kept by the emulator; mutated only on the server's event loop."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()
        self.responses: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.requests_by_endpoint: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.faults: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.jobs_created: int = 0
        self.jobs_by_input: Counter[str] = Counter()
        self.final_states: dict[str, str] = {}
        self.webhooks: Counter[str] = Counter()

    def request(self, route: str, endpoint_id: str | None) -> None:
        self.requests[route] += 1
        if endpoint_id is not None:
            self.requests_by_endpoint[endpoint_id][route] += 1

    def response(self, route: str, outcome: int | str) -> None:
        """Record how a request ended: an HTTP status, or "dropped" for a closed connection."""
        self.responses[route][str(outcome)] += 1

    def fault(self, route: str, kind: str) -> None:
        self.faults[route][kind] += 1

    def job_created(self, job_input: Any) -> None:
        self.jobs_created += 1
        self.jobs_by_input[fingerprint(job_input)] += 1

    def job_final(self, job_id: str, state: str) -> None:
        """The latest final state of a job (a retried job is recorded again when it ends)."""
        self.final_states[job_id] = state

    def webhook(self, outcome: str) -> None:
        self.webhooks[outcome] += 1

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy; `duplicate_inputs` lists fingerprints submitted more than once."""
        return {
            "requests": dict(self.requests),
            "responses": {route: dict(codes) for route, codes in self.responses.items()},
            "requests_by_endpoint": {
                endpoint: dict(routes) for endpoint, routes in self.requests_by_endpoint.items()
            },
            "faults": {route: dict(kinds) for route, kinds in self.faults.items()},
            "jobs_created": self.jobs_created,
            "jobs_by_input": dict(self.jobs_by_input),
            "duplicate_inputs": sorted(fp for fp, n in self.jobs_by_input.items() if n > 1),
            "final_states": dict(self.final_states),
            "final_state_totals": dict(Counter(self.final_states.values())),
            "webhooks": dict(self.webhooks),
        }
