"""A worker that times its work with the official debugger's helpers.

A checkpoint name may be added once per job: the runtime clears the checkpoints after
every job, so each job's ``LineTimer("predict")`` starts afresh (without that, the
second job would fail with "Checkpoint name ... already exists").
"""

import runpod
from runpod.serverless.utils.rp_debugger import LineTimer


def handler(job):
    with LineTimer("predict"):
        value = job["input"].get("value")
    return {"value": value}


runpod.serverless.start({"handler": handler})
