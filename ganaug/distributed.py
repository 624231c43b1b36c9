"""torch.distributed in one place: joining the process group torchrun describes,
this process's rank, collecting small Python objects from every rank on rank 0, and the
collective steps of a data-parallel GAN fit (DDP wrappers, averaged figures, per-class GANs
spread over the ranks and gathered back)."""

from __future__ import annotations

import datetime
import os
import pickle

import torch

#: How long rank 0 waits for another rank's objects in :func:`collect_objects` (torchrun stops every rank
#: when one fails, so the wait ends with the run long before this).
COLLECT_TIMEOUT = datetime.timedelta(days=7)


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


def launch_rank() -> tuple[int, int]:
    """(``RANK``, ``WORLD_SIZE``) that torchrun gave this process, (0, 1) without torchrun; needs no process group."""
    return int(os.environ.get("RANK", "0")), launched_processes()


def _launch_store() -> torch.distributed.Store:
    """A client of torchrun's rendezvous store (rank 0 hosts it when no torchrun agent does)."""
    import torch.distributed as dist

    rank, world = launch_rank()
    agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true"
    store = dist.TCPStore(
        os.environ["MASTER_ADDR"],
        int(os.environ["MASTER_PORT"]),
        world,
        is_master=rank == 0 and not agent,
        timeout=COLLECT_TIMEOUT,
        wait_for_workers=False,
    )
    run = f"{os.environ.get('TORCHELASTIC_RUN_ID', 'none')}/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}"
    return dist.PrefixStore(f"ganaug/{run}/", store)


def collect_objects(items: list, *, name: str) -> list:
    """Every rank's ``items`` concatenated in rank order on rank 0; every other rank gets its own ``items`` back.

    The objects travel through torchrun's rendezvous store, not through a process group: no rank joins one, so
    there is no collective to tear down and a rank that finishes first simply exits. ``name`` keeps one
    collection apart from another in the same run. Without torchrun (one process) ``items`` comes back as is.
    """
    rank, world = launch_rank()
    if world == 1:
        return items
    store = _launch_store()
    keys = [f"{name}/{r}" for r in range(world)]
    store.set(keys[rank], pickle.dumps(items))
    if rank != 0:
        return items
    store.wait(keys, COLLECT_TIMEOUT)
    return [item for key in keys for item in pickle.loads(store.get(key))]


def owned_classes(n_classes: int, rank: int, world: int) -> list[int]:
    """The classes whose GANs ``rank`` trains when per-class GANs are spread over ``world`` ranks.

    Examples
    --------
    >>> owned_classes(5, rank=1, world=2)
    [1, 3]
    """
    return [k for k in range(n_classes) if k % world == rank]


def gather_per_class(modules, *, n_classes: int, world: int) -> None:
    """Give every rank every class's part of each per-class module (``PerClass``) from the rank that trained it."""
    import torch.distributed as dist

    for k in range(n_classes):
        for module in modules:
            for t in list(module.per_class[k].parameters()) + list(module.per_class[k].buffers()):
                dist.broadcast(t.detach(), k % world)


def broadcast_buffers(modules, *, src: int = 0) -> None:
    """Every rank takes rank ``src``'s buffers (batch-norm statistics) of each module."""
    import torch.distributed as dist

    for module in modules:
        for b in module.buffers():
            dist.broadcast(b, src)


def wrap_ddp(generator, discriminator, *, device: torch.device, per_class: bool):
    """The (generator, discriminator) pair wrapped for data-parallel training (DDP averages their gradients)."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    ids = [device.index] if device.type == "cuda" else None
    # per-class GANs: a rank's slice holds only some classes, so the others' modules get no gradient there;
    # the warp generator's buffers are the training images, the same on every rank: nothing to broadcast
    # (and a channels-last single-channel image buffer cannot be broadcast in place)
    static_buffers = hasattr(generator, "set_exemplars")
    g = DDP(generator, device_ids=ids, find_unused_parameters=per_class, broadcast_buffers=not static_buffers)
    return g, DDP(discriminator, device_ids=ids, find_unused_parameters=per_class)


def mean_over_ranks(t: torch.Tensor, world: int) -> torch.Tensor:
    """``t`` averaged over the ranks, in place (``t`` itself in one process): every rank then takes the same
    decisions from it."""
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(t)
        t /= world
    return t


def barrier() -> None:
    """Wait until every rank reaches this point."""
    import torch.distributed as dist

    dist.barrier()
