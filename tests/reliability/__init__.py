"""Reliability suite: fault soak, cancellation trials, bad-input corpus, secret hygiene."""
