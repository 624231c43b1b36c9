"""Safe model files: atomic writes and ``weights_only`` loading with clear errors.

A ganaug file is a plain dict of builtins and tensors (config, state dicts,
classes, step, library version). It is written to a temporary file, flushed
to disk and renamed into place, so a crash never leaves a half-written file
under the final name; it is read with ``torch.load(weights_only=True)``, so a
file carrying a pickled object is refused without running anything.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from pathlib import Path

import torch

from ._validation import user_path

#: 2: a model file stores its estimator's GAN hyperparameters as one ``gan`` dict (1: one keyword each).
FORMAT_VERSION = 2
_CKPT = re.compile(r"^ckpt_(\d{8})\.pt$")


def check_file_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path (``~`` the home folder); ``IsADirectoryError`` when it names a folder (a file in it was
    meant)."""
    path = user_path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a folder: give a file name in it, e.g. {str(path / 'model.pt')!r}")
    return path


def atomic_save(obj: dict, path: str | os.PathLike) -> Path:
    """Write ``obj`` with ``torch.save`` to ``path`` atomically (temp file, fsync, rename)."""
    path = check_file_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)  # straight to the file: a model holding many images is not also held as bytes
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
    """Load a ganaug file with ``weights_only=True``; raise ``ValueError`` naming the file and saying what it is
    when it is missing, empty, not a torch file, damaged, carries code, lacks ganaug's entries, or was written
    by a newer ganaug."""
    path = user_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {kind} file at {str(path)!r}")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for damaged or unsafe files: say which case it is
        raise ValueError(f"{str(path)!r} is not a ganaug {kind} file: it {_unreadable(path, exc)}") from exc
    if not isinstance(obj, dict) or "format_version" not in obj:
        what = f"a dict with keys {sorted(map(str, obj))[:8]}" if isinstance(obj, dict) else f"a {type(obj).__name__}"
        raise ValueError(
            f"{str(path)!r} is not a ganaug {kind} file: it is a torch file without ganaug's entries "
            f"(it holds {what}, and no format_version)"
        )
    version = obj["format_version"]
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(
            f"{str(path)!r} has format version {version!r}, newer than this ganaug understands "
            f"({FORMAT_VERSION}); upgrade ganaug (pip install -U ganaug) to read it"
        )
    return obj


def _unreadable(path: Path, exc: Exception) -> str:
    """What a file that ``torch.load(weights_only=True)`` refused is, as the end of a sentence starting "it"."""
    with open(path, "rb") as f:
        head = f.read(4096)
    found = re.search(r"unsupported (?:global: )?GLOBAL ([\w.]+)", str(exc), re.IGNORECASE)
    if found:  # a pickle that imports something outside torch's allow-list: nothing of it was run
        return (
            f"holds Python objects that would run code when unpickled ({found.group(1)}), so it was refused "
            "without loading; load it only if you trust its source, and save it again with SyntheticAugmenter.save"
        )
    if not head:
        return "is empty (0 bytes): the write that made it did not finish, or it is not the file you meant"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            torch_file = any(name.endswith("data.pkl") for name in archive.namelist())
        if not torch_file:
            return "is a zip archive, not a torch file (no data.pkl inside)"
        return f"is a torch file that is damaged or truncated ({_first_line(exc)})"
    if head.startswith(b"PK\x03\x04"):  # a zip archive's first entry, but no readable end: cut short
        return "is a damaged or truncated zip archive (a torch file whose writing did not finish?)"
    if _is_text(head):
        first = head.decode("utf-8", "replace").splitlines()[0][:60] if head.strip() else ""
        return f"is a text file, not a torch file (it starts {first!r})"
    if head[:1] == b"\x80":  # the pickle protocol marker: an old-style torch file or a plain pickle
        return "is a pickle that torch cannot read as a file of tensors (a plain pickle, or an old-style torch file)"
    return "is not a torch file: its first bytes are neither a zip archive (torch's format) nor a pickle"


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:  # a multi-byte character cut at the end of the head still counts as text
        text = head[:-4].decode("utf-8", "replace")
    return "\x00" not in text and all(c.isprintable() or c in "\t\r\n" for c in text.replace("\ufffd", ""))


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def checkpoint_path(directory: str | os.PathLike, step: int) -> Path:
    """Name of the checkpoint taken after ``step`` steps."""
    return user_path(directory) / f"ckpt_{step:08d}.pt"


def list_checkpoints(directory: str | os.PathLike) -> list[Path]:
    """Checkpoints in ``directory``, oldest first."""
    directory = user_path(directory)
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
