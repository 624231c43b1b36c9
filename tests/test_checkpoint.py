"""ganaug.checkpoint: safe loading of model files, and what a file that is not one is said to be."""

import io
import os
import pickle
import re
import zipfile

import numpy as np
import pytest
import torch

from ganaug import SyntheticAugmenter


def test_load_refuses_damaged_and_newer_files(fitted, tmp_path):
    aug, _, _ = fitted
    path = aug.save(tmp_path / "m.pt")
    data = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.pt"):
        SyntheticAugmenter.load(tmp_path / "cut.pt")
    state = torch.load(path, weights_only=True)
    state["format_version"] = 99
    torch.save(state, tmp_path / "new.pt")
    with pytest.raises(ValueError, match="newer than this ganaug"):
        SyntheticAugmenter.load(tmp_path / "new.pt")


def test_saving_to_a_folder_names_it_and_suggests_a_file_in_it_writing_nothing(fitted, tmp_path):
    aug, _, _ = fitted
    with pytest.raises(IsADirectoryError, match=r"is a folder: give a file name in it, e.g. .*model\.pt"):
        aug.save(tmp_path)
    assert os.listdir(tmp_path) == []
    assert [p for p in os.listdir(tmp_path.parent) if p.endswith(".tmp")] == []


class _Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/ganaug_payload_ran",))


def test_load_refuses_pickle_payload_without_running_it(fitted, tmp_path):
    import os

    aug, _, _ = fitted
    path = aug.save(tmp_path / "m.pt")
    state = torch.load(path, weights_only=True)
    state["evil"] = _Payload()
    torch.save(state, tmp_path / "evil.pt")
    if os.path.exists("/tmp/ganaug_payload_ran"):
        os.unlink("/tmp/ganaug_payload_ran")
    with pytest.raises(ValueError, match="refused without loading"):
        SyntheticAugmenter.load(tmp_path / "evil.pt")
    assert not os.path.exists("/tmp/ganaug_payload_ran")


# -- what a file that is not a model file is said to be --------------------------------------------------------
def _zip_without_data_pkl(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "no tensors here")


def _torch_file_cut_in_half(path):
    buffer = io.BytesIO()
    torch.save({"weights": torch.zeros(256)}, buffer)
    data = buffer.getvalue()
    path.write_bytes(data[: len(data) // 2])


#: What a pickle that imports something is said to hold; it names the global torch refused (os.system: posix.system).
WOULD_RUN_CODE = (
    rf"holds Python objects that would run code when unpickled \({re.escape(os.system.__module__)}\.system\), "
    "so it was refused without loading"
)
#: (id, how to write the file, what the error says the file is)
BAD_FILES = [
    ("empty", lambda path: path.write_bytes(b""), r"is empty \(0 bytes\)"),
    (
        "text",
        lambda path: path.write_text("hello world\n"),
        r"is a text file, not a torch file \(it starts 'hello world'\)",
    ),
    (
        "random-bytes",
        lambda path: path.write_bytes(np.random.RandomState(0).bytes(4096)),
        r"is not a torch file: its first bytes are neither a zip archive \(torch's format\) nor a pickle",
    ),
    ("zip-without-data.pkl", _zip_without_data_pkl, r"is a zip archive, not a torch file \(no data\.pkl inside\)"),
    ("torch-file-cut-in-half", _torch_file_cut_in_half, r"is a damaged or truncated zip archive"),
    (
        "plain-pickle",
        lambda path: path.write_bytes(pickle.dumps({"a": 1}, protocol=2)),
        r"is a pickle that torch cannot read as a file of tensors",
    ),
    (
        "torch-file-without-ganaug-entries",
        lambda path: torch.save({"weights": torch.zeros(3)}, path),
        r"is a torch file without ganaug's entries \(it holds a dict with keys \['weights'\], and no format_version\)",
    ),
    (
        "torch-file-with-a-payload",
        lambda path: torch.save({"weights": torch.zeros(3), "x": _Payload()}, path),
        WOULD_RUN_CODE,
    ),
    ("pickle-with-a-payload", lambda path: path.write_bytes(pickle.dumps(_Payload(), protocol=2)), WOULD_RUN_CODE),
]


@pytest.mark.parametrize("write, says", [pytest.param(write, says, id=name) for name, write, says in BAD_FILES])
def test_load_says_what_a_file_that_is_not_a_model_file_is(tmp_path, write, says):
    path = tmp_path / "model.pt"
    write(path)
    if os.path.exists("/tmp/ganaug_payload_ran"):
        os.unlink("/tmp/ganaug_payload_ran")
    with pytest.raises(ValueError, match=re.escape(f"{str(path)!r} is not a ganaug model file: it ") + says) as refused:
        SyntheticAugmenter.load(path)
    message = str(refused.value)
    # "would run code" only for a pickle that imports something: a damaged or foreign file is not called unsafe
    assert ("would run code" in message) == (says == WOULD_RUN_CODE)
    # and each kind of file is told apart: the message fits no other kind's description
    assert [other for _, _, other in BAD_FILES if other != says and re.search(other, message)] == []
    assert not os.path.exists("/tmp/ganaug_payload_ran")  # nothing in the file was run
