"""Quickstart (blocking): run a job, or submit one and collect it later.

export RUNPOD_API_KEY=...          # or ~/.runpod/config.toml (`runpod config`)
export RUNPOD_ENDPOINT_ID=...      # an endpoint running my_worker.py
python examples/quickstart_sync.py
"""

from __future__ import annotations

import os

from runpod_typed import Runpod


def main() -> None:
    with Runpod() as rp:  # one connection pool; closed when the block ends
        endpoint = rp.endpoint(os.environ["RUNPOD_ENDPOINT_ID"])

        # Submit, wait (long-poll, not a 1 s polling loop) and return the output.
        output = endpoint.run_sync({"text": "GPUs far away do the heavy lifting"}, timeout=120)
        print("run_sync:", output)

        # Or submit now and collect later; Ctrl-C while waiting cancels the job on RunPod.
        job = endpoint.run({"text": "a job you can look at while it runs"})
        print("submitted:", job.id, job.status().state.value)
        print("output:", job.output(timeout=120))

        health = endpoint.health()
        print(f"health: {health.jobs_completed} completed, {health.jobs_in_queue} in queue")


if __name__ == "__main__":
    main()
