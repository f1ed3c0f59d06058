"""runpod-typed: typed Python SDK for RunPod."""
from runpod_typed._version import __version__

__all__ = ["__version__"]
