"""Where models run: the one place that picks the GPU when there is one."""

from __future__ import annotations

import torch


def best_device(index: int | None = None) -> torch.device:
    """A GPU where one is visible (``cuda``, or ``cuda:<index>`` for a process's own GPU), else the CPU."""
    if not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda" if index is None else f"cuda:{index}")
