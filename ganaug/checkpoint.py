"""Safe model files: atomic writes and ``weights_only`` loading with clear errors.

A ganaug file is a plain dict of builtins and tensors (config, state dicts,
classes, step, library version). It is written to a temporary file, flushed
to disk and renamed into place, so a crash never leaves a half-written file
under the final name; it is read with ``torch.load(weights_only=True)``, so a
file carrying a pickled object is refused without running anything.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path

import torch

#: 2: a model file stores its estimator's GAN hyperparameters as one ``gan`` dict (1: one keyword each).
FORMAT_VERSION = 2
_CKPT = re.compile(r"^ckpt_(\d{8})\.pt$")


def atomic_save(obj: dict, path: str | os.PathLike) -> Path:
    """Write ``obj`` with ``torch.save`` to ``path`` atomically (temp file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    torch.save(obj, buf)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buf.getbuffer())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # some file systems refuse fsync on directories; the rename is still atomic
        pass
    return path


def safe_load(path: str | os.PathLike, map_location="cpu", kind: str = "ganaug model") -> dict:
    """Load a ganaug file with ``weights_only=True``; raise ``ValueError`` naming the file when it is
    missing, damaged, carries code, or was written by a newer ganaug."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {kind} file at {str(path)!r}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for damaged or unsafe files
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise ValueError(
                f"{str(path)!r} is not a plain ganaug {kind}: it holds Python objects that would run code "
                f"when unpickled, so it was refused without loading ({msg})"
            ) from exc
        raise ValueError(f"{str(path)!r} is damaged or not a ganaug {kind} file: {msg}") from exc
    if not isinstance(obj, dict) or "format_version" not in obj:
        raise ValueError(f"{str(path)!r} is not a ganaug {kind} file (no format_version entry)")
    version = obj["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} has format version {version!r}, newer than this ganaug understands "
            f"({FORMAT_VERSION}); upgrade ganaug (pip install -U ganaug) to read it"
        )
    return obj


def checkpoint_path(directory: str | os.PathLike, step: int) -> Path:
    """Name of the checkpoint taken after ``step`` steps."""
    return Path(directory) / f"ckpt_{step:08d}.pt"


def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """Checkpoints in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _CKPT.match(p.name))


def prune_checkpoints(directory: str | os.PathLike, keep: int = 2) -> None:
    """Delete all but the newest ``keep`` checkpoints."""
    for p in list_checkpoints(directory)[:-keep]:
        p.unlink(missing_ok=True)


def check_resumable(saved: dict | None, expected: dict, directory) -> None:
    """Refuse to resume from checkpoints (``saved``, their ``extra`` dict; ``None`` when there are none) that a
    fit on other data, other unlabelled data or another seed wrote."""
    if saved is None:
        return
    for key, what, fix in (
        ("fingerprint", "a fit on different data", "pass the same data, or use a new checkpoint_dir"),
        (
            "unlabelled",
            "a fit with other unlabelled data",
            "pass the same unlabelled data, or use a new checkpoint_dir",
        ),
        ("seed", "a fit with another random_state", "pass the same random_state to resume"),
    ):
        if saved.get(key) != expected.get(key):
            raise ValueError(f"the checkpoints in {str(directory)!r} were written by {what}; {fix}")
