"""Distributed set-up: join the process group torchrun describes (NCCL on GPUs, gloo on CPUs), or run alone."""

from __future__ import annotations

import os

import torch

from ..device import best_device


def setup_distributed() -> tuple[int, int, torch.device]:
    """Join the process group torchrun describes (if any); return rank, world size and device."""
    world = int(os.environ.get("WORLD_SIZE", 1))
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = best_device(local)
    if world > 1 and not torch.distributed.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    return rank, world, device


def wrap_ddp(model: torch.nn.Module, world: int, device: torch.device) -> torch.nn.Module:
    """The model wrapped for data-parallel training when there are several processes."""
    if world == 1:
        return model
    return torch.nn.parallel.DistributedDataParallel(
        model, device_ids=[device.index] if device.type == "cuda" else None)


def gather_batch(tensor: torch.Tensor, world: int) -> torch.Tensor:
    """Every rank's ``tensor`` (equal shapes), concatenated in rank order, as open_clip's ``gather_features``
    does it: the other ranks' rows arrive without a gradient, this rank's own rows keep theirs."""
    if world == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(world)]
    torch.distributed.all_gather(parts, tensor.detach().contiguous())
    parts[torch.distributed.get_rank()] = tensor
    return torch.cat(parts)


def barrier(world: int) -> None:
    if world > 1:
        torch.distributed.barrier()


def cleanup() -> None:
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
