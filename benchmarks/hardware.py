"""What the GPU benchmarks share: FLOPs counted by PyTorch, the device's peak, MFU, reserved memory.

Not a benchmark itself (tests/test_benchmarks.py runs every other script): the three GPU benchmarks
(`gpu_step.py`, `sam.py`, `describe.py`) import it so that they report the same figures the same way.

- FLOPs per item are counted with `torch.utils.flop_counter.FlopCounterMode` on the real call, never
  written by hand (a multiply-add counts as two FLOPs, as PyTorch counts it).
- MFU (model FLOPs utilisation) = counted FLOPs per second / the device's dense bf16 peak, looked up by
  device name in `PEAK_TFLOPS` (the vendors' dense figures, no sparsity), or given with `--peak-tflops`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

#: Dense bf16 peak in TFLOP/s by a substring of `torch.cuda.get_device_name()` (first match wins, so a name
#: that another contains comes after it: H100 NVL before H100, L40 before L4). Sources: NVIDIA's data sheets,
#: the dense (not 2:4 sparse) tensor-core figures.
PEAK_TFLOPS: dict[str, float] = {
    "H200": 989.0,
    "H100 PCIe": 756.0,
    "H100 NVL": 835.0,
    "H100": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "L40": 181.0,
    "A10G": 70.0,
    "L4": 121.0,
    "RTX 4090": 165.0,
    "RTX 3090": 71.0,
    "V100": 125.0,  # fp16 (no bf16 on Volta)
    "T4": 65.0,  # fp16
}


def add_peak_argument(parser: argparse.ArgumentParser) -> None:
    """The `--peak-tflops` option every GPU benchmark takes, for a device the table does not know."""
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the device's dense bf16 peak in TFLOP/s (default: looked up by device name)")


def peak_tflops(device: torch.device, override: float | None = None) -> float | None:
    """The device's dense bf16 peak in TFLOP/s: `override`, else the table's, else None (unknown, or a CPU)."""
    if override is not None:
        return override
    if device.type != "cuda":
        return None
    return peak_of(torch.cuda.get_device_name(device))


def peak_of(device_name: str) -> float | None:
    """The table's peak for a device name: the first key it contains (longer names are listed first)."""
    return next((peak for key, peak in PEAK_TFLOPS.items() if key in device_name), None)


def count_flops(call: Callable[[], object]) -> int:
    """FLOPs of one `call()`, as PyTorch's FlopCounterMode counts them (matmuls, convolutions, attention)."""
    with FlopCounterMode(display=False) as counter:
        call()
    return counter.get_total_flops()


def mfu(flops_per_item: float, items_per_second: float, peak: float | None) -> float | None:
    """Model FLOPs utilisation: achieved FLOP/s over the peak; None where the peak is unknown."""
    if peak is None or flops_per_item <= 0:
        return None
    return flops_per_item * items_per_second / (peak * 1e12)


def timed(call: Callable[[], object], device: torch.device) -> float:
    """Seconds of ``call()``, the device's queued work included (synchronised before and after)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    call()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def reset_memory(device: torch.device) -> None:
    """Start a new peak-memory window (synchronising first, so the window starts after queued work)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def peak_reserved_gib(device: torch.device) -> float | None:
    """Peak memory the caching allocator reserved since `reset_memory` (what the device had to hold), GiB."""
    if device.type != "cuda":
        return None
    return torch.cuda.max_memory_reserved(device) / 2**30


def figures(flops_per_item: float, items_per_second: float, device: torch.device, peak: float | None,
            unit: str) -> str:
    """One line: throughput, TFLOP per item, MFU and peak reserved memory ("n/a" where not measurable)."""
    utilisation = mfu(flops_per_item, items_per_second, peak)
    reserved = peak_reserved_gib(device)
    return (f"{items_per_second:9.2f} {unit}/s   {flops_per_item / 1e12:8.4f} TFLOP/{unit.rstrip('s')}   "
            f"MFU {'n/a' if utilisation is None else f'{100 * utilisation:.1f}%'}   "
            f"peak reserved {'n/a' if reserved is None else f'{reserved:6.1f} GiB'}")
