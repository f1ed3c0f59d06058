"""Batch processing: one job per input, N at a time, with progress and per-item errors.

`map` keeps results in input order. With `return_exceptions=True` a failed item
is returned as its error (JobFailed carries the worker's message) instead of
stopping the batch; without it, the first failure cancels the jobs still
running and is raised.

    RUNPOD_ENDPOINT_ID=... python examples/batch_map.py
"""

from __future__ import annotations

import os

import pydantic

from runpod_typed import JobFailed, Runpod, RunpodError


class Summary(pydantic.BaseModel):
    summary: str
    words: int


def documents() -> list[str]:
    """Stand-in for your data: 40 texts, two of them empty (the worker refuses those)."""
    docs = [f"document {i} " + "lorem ipsum " * (i % 7) for i in range(40)]
    docs[7] = docs[23] = ""
    return docs


def main() -> None:
    docs = documents()
    with Runpod() as rp:
        results = rp.endpoint(os.environ["RUNPOD_ENDPOINT_ID"]).map(
            [{"text": doc} for doc in docs],
            output_type=Summary,
            concurrency=10,
            return_exceptions=True,
            progress_bar=True,  # a rich bar (pip install 'runpod-typed[progress]')
            timeout=600,  # per job
        )
    failed: list[tuple[int, RunpodError]] = []
    for index, result in enumerate(results):
        if isinstance(result, RunpodError):
            failed.append((index, result))
    print(f"{len(docs) - len(failed)} ok, {len(failed)} failed")
    for index, error in failed:
        reason = error.error if isinstance(error, JobFailed) else error
        print(f"  document {index}: {type(error).__name__}: {reason}")
    total_words = sum(r.words for r in results if isinstance(r, Summary))
    print(f"words summarized: {total_words}")


if __name__ == "__main__":
    main()
