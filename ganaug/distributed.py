"""torch.distributed in one place: joining the process group torchrun describes,
this process's rank, and gathering small Python objects from every rank."""

from __future__ import annotations

import os

import torch


def launched_processes() -> int:
    """How many processes torchrun started (``WORLD_SIZE``; 1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def join_process_group(device: torch.device | str = "cpu") -> None:
    """Initialise torch.distributed from torchrun's environment when it asks for several processes
    and no process group exists yet (NCCL on CUDA, gloo on CPU)."""
    import torch.distributed as dist

    if launched_processes() > 1 and dist.is_available() and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.device(device).type == "cuda" else "gloo")


def rank_world() -> tuple[int, int]:
    """(rank, world size) of the active process group, (0, 1) without one."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_objects(items: list) -> list:
    """Every rank's ``items`` concatenated in rank order, on every rank (``items`` itself without a group)."""
    rank, world = rank_world()
    if world == 1:
        return items
    import torch.distributed as dist

    parts = [None] * world
    dist.all_gather_object(parts, items)
    return [item for part in parts for item in part]
