"""A plain (sync) worker, written the way RunPod's worker template is.

``input.action`` picks what the handler does: echo (default), raise, error, empty,
error_none, refresh, pid, calls (how many jobs this process or module ran: a restart
starts again at 1), sleep, progress, crash.
"""

import os
import time

import runpod

CALLS = 0


def handler(job):
    global CALLS
    CALLS += 1
    job_input = job["input"]
    action = job_input.get("action", "echo")
    if action == "echo":
        return {"echo": job_input.get("value"), "worker": os.environ["RUNPOD_POD_ID"]}
    if action == "raise":
        raise ValueError(job_input.get("message", "the handler raised"))
    if action == "error":
        return {"error": job_input.get("message", "the handler returned an error")}
    if action == "error_none":
        return {"error": None, "result": 1}
    if action == "empty":
        return {}
    if action == "refresh":
        return {"refresh_worker": True, "pid": os.getpid()}
    if action == "pid":
        return os.getpid()
    if action == "calls":
        return CALLS
    if action == "sleep":
        time.sleep(job_input.get("seconds", 1))
        return "slept"
    if action == "progress":
        for step in job_input.get("steps", []):
            runpod.serverless.progress_update(job, step)
            time.sleep(job_input.get("delay", 0.3))
        return "done"
    if action == "crash":
        os._exit(3)
    return {"error": f"unknown action {action!r}"}


runpod.serverless.start({"handler": handler})
