"""Crashes lose nothing, divergence is caught, bad input is refused clearly."""

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import ganaug
from ganaug import SyntheticAugmenter
from ganaug.checkpoint import list_checkpoints
from ganaug.config import GANConfig
from ganaug.models import build_models, init_weights
from ganaug.training import GANTrainer

# Property tests draw the same examples on every run, so a red CI run is reproducible; set
# HYPOTHESIS_PROFILE=explore to search fresh examples locally.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

SMALL_GAN = dict(g_width=8, d_width=8, latent_dim=8, batch_size=4, log_every=5)
SMALL = dict(gan=GANConfig(**SMALL_GAN), verbose=0)

_CHILD = """
import sys, numpy as np
from ganaug import GANConfig, SyntheticAugmenter
d = np.load(sys.argv[1])
gan = GANConfig(g_width=8, d_width=8, latent_dim=8, batch_size=4, log_every=5)
SyntheticAugmenter(gan=gan, n_steps=int(sys.argv[3]), checkpoint_dir=sys.argv[2], checkpoint_every=5, random_state=0,
                   verbose=0).fit((d["x"], d["y"]))
"""


@pytest.mark.slow
def test_kill_9_during_fit_then_resume_equals_uninterrupted(tmp_path):
    rng = np.random.RandomState(0)
    x, y = rng.rand(16, 1, 28, 28).astype(np.float32), np.arange(16) % 2
    np.savez(tmp_path / "d.npz", x=x, y=y)
    n_steps = 300
    ckpt = tmp_path / "ckpt"
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path / "d.npz"), str(ckpt), str(n_steps)])
    deadline = time.time() + 120
    while time.time() < deadline and len(list_checkpoints(ckpt)) < 2 and child.poll() is None:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    done = list_checkpoints(ckpt)
    assert done, "the child wrote no checkpoint before it was killed"
    assert int(done[-1].name[5:13]) < n_steps, "the child finished before it could be killed"

    resumed = SyntheticAugmenter(n_steps=n_steps, checkpoint_dir=ckpt, checkpoint_every=5, random_state=0, **SMALL)
    resumed.fit((x, y), resume=True)
    straight = SyntheticAugmenter(n_steps=n_steps, random_state=0, **SMALL).fit((x, y))
    assert np.array_equal(resumed.sample(8, random_state=3)[0], straight.sample(8, random_state=3)[0])
    for a, b in zip(resumed.generator_.state_dict().values(), straight.generator_.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_refuses_other_data_or_seed(tmp_path):
    x, y = torch.rand(16, 1, 28, 28), torch.arange(16) % 2
    SyntheticAugmenter(n_steps=5, checkpoint_dir=tmp_path, checkpoint_every=5, random_state=0, **SMALL).fit((x, y))
    with pytest.raises(ValueError, match="different data"):
        SyntheticAugmenter(n_steps=10, checkpoint_dir=tmp_path, random_state=0, **SMALL).fit((x + 0.01, y), resume=True)
    with pytest.raises(ValueError, match="random_state"):
        SyntheticAugmenter(n_steps=10, checkpoint_dir=tmp_path, random_state=1, **SMALL).fit((x, y), resume=True)
    with pytest.raises(ValueError, match="needs checkpoint_dir"):
        SyntheticAugmenter(n_steps=10, **SMALL).fit((x, y), resume=True)


def test_damaged_newest_checkpoint_falls_back_to_previous(tmp_path):
    x, y = torch.rand(16, 1, 28, 28), torch.arange(16) % 2
    SyntheticAugmenter(n_steps=10, checkpoint_dir=tmp_path, checkpoint_every=5, random_state=0, **SMALL).fit((x, y))
    newest = list_checkpoints(tmp_path)[-1]
    newest.write_bytes(newest.read_bytes()[:100])
    with pytest.warns(RuntimeWarning, match=newest.name):
        aug = SyntheticAugmenter(n_steps=10, checkpoint_dir=tmp_path, random_state=0, **SMALL).fit((x, y), resume=True)
    assert aug.n_steps_ == 10


class _SometimesNaN(nn.Module):
    """Wraps a discriminator; its output is NaN for calls in ``bad`` (all calls if ``bad`` is None)."""

    def __init__(self, d, bad):
        super().__init__()
        self.d, self.bad, self.calls = d, bad, 0
        self.aux = getattr(d, "aux", None)

    def forward(self, x, y, return_aux=False):
        self.calls += 1
        out = self.d(x, y, return_aux=return_aux)
        if self.bad is None or self.calls in self.bad:
            out = (out[0] * float("nan"), out[1]) if return_aux else out * float("nan")
        return out


def _trainer(bad):
    cfg = GANConfig(n_steps=20, architecture="dcgan", **SMALL_GAN)
    g, d = build_models(cfg, 2, (1, 28, 28))
    gen = torch.Generator().manual_seed(0)
    init_weights(g, gen)
    init_weights(d, gen)
    return GANTrainer(g, _SometimesNaN(d, bad), cfg, device="cpu", seed=0)


def test_divergence_rolls_back_lowers_lr_and_warns():
    t = _trainer(bad={12})  # the 12th discriminator call is in step 6 (two calls a step)
    x, y = torch.rand(16, 1, 28, 28) * 2 - 1, torch.arange(16) % 2
    # found at the next log (step 10, log_every=5), it rolls back to the last good log (step 5)
    said = r"diverged near step 10 \(losses \[nan, nan, nan, nan\]\); rolled back to step 5 and halved .* \(now x0\.5\)"
    with pytest.warns(RuntimeWarning, match=said):
        t.fit(x, y, n_classes=2, verbose=0)
    assert t.step == 20 and t.lr_scale == 0.5 and t.rollbacks == 1
    assert t.history["step"] == [5, 10, 15, 20]  # step 10 logged once, after the redo
    assert all(np.isfinite(t.history["d_loss"]))
    out = t.G_ema(torch.randn(8, t.G.latent_dim), torch.arange(8) % 2)
    assert torch.isfinite(out).all()


def test_a_second_rollback_restores_the_state_the_first_did(monkeypatch):
    t = _trainer(bad={12, 22})  # step 6 diverges, and again when it is redone after the rollback to step 5
    restored = []
    load = t.load_state_dict

    def load_and_record(state):
        load(state)
        moments = [{k: v.clone() for k, v in s.items()} for o in (t.opt_g, t.opt_d) for s in o.state.values()]
        restored.append((t.step, moments, [p.detach().clone() for p in t.G.parameters()]))

    monkeypatch.setattr(t, "load_state_dict", load_and_record)
    x, y = torch.rand(16, 1, 28, 28) * 2 - 1, torch.arange(16) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t.fit(x, y, n_classes=2, verbose=0)
    assert t.rollbacks == 2 and t.step == 20
    (step1, moments1, weights1), (step2, moments2, weights2) = restored
    assert step1 == step2 == 5
    assert all(torch.equal(a, b) for a, b in zip(weights1, weights2))
    # the optimisers' moments and step counts of step 5, not those the redone steps moved them to
    assert len(moments1) == len(moments2) > 0
    for m1, m2 in zip(moments1, moments2):
        assert m1.keys() == m2.keys() and all(torch.equal(m1[k], m2[k]) for k in m1)


def test_unrecoverable_divergence_raises_with_advice():
    t = _trainer(bad=None)
    x, y = torch.rand(16, 1, 28, 28) * 2 - 1, torch.arange(16) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(RuntimeError, match="did not recover"):
            t.fit(x, y, n_classes=2, verbose=0)


# -- property-based: every bad input gets a ValueError/TypeError, good input works ----------
_dtypes = st.sampled_from(["float32", "float64", "uint8", "int64", "bool", "complex64", "object"])


@st.composite
def _datasets(draw):
    """Data with any mix of defects, and the set of defects it has (empty when it is good data)."""
    ndim = draw(st.integers(1, 5))
    n = draw(st.integers(0, 12))
    side = draw(st.sampled_from([1, 3, 8, 20, 28, 32, 96, 600]))
    channels = draw(st.sampled_from([1, 2, 3]))
    shape = {
        1: (n,),
        2: (n, draw(st.integers(1, 6))),
        3: (n, side, side),
        4: (n, channels, side, side),
        5: (n, 1, 1, side, side),
    }[ndim]
    dtype = draw(_dtypes)
    x = np.random.RandomState(0).rand(*shape) * 10
    x = x.astype(object) if dtype == "object" else x.astype(dtype)
    defects = set()
    if draw(st.booleans()) and x.size and dtype.startswith("float"):
        x.flat[0] = draw(st.sampled_from([np.nan, np.inf]))
        defects.add("nan")
    label_kind = draw(st.sampled_from(["int", "str", "float", "bool", "one", "short", "2d"]))
    m = (n + 1 if n == 0 else n - 1) if label_kind == "short" else n  # "short": length mismatch
    y = np.arange(m) % 2
    y = {
        "int": y,
        "str": np.array(["a", "b"])[y] if m else np.array([], dtype=str),
        "float": y + 0.5,
        "bool": y.astype(bool),
        "one": np.zeros(m, dtype=int),
        "short": y,
        "2d": np.stack([y, y], 1),
    }[label_kind]
    if n == 0:
        defects.add("empty")
    if dtype in ("bool", "complex64", "object"):
        defects.add("dtype")
    if ndim not in (2, 3, 4):
        defects.add("dimensions")
    if ndim in (3, 4) and (1 if ndim == 3 else channels) not in (1, 3):
        defects.add("channels")
    if ndim in (3, 4) and not 8 <= side <= 512:  # the image models take 8 to 512 px a side
        defects.add("size")
    if label_kind in ("float", "bool"):
        defects.add("label type")
    if label_kind == "2d":
        defects.add("label shape")
    if len(y) != n:
        defects.add("length")
    if len(np.unique(y)) < 2:
        defects.add("one class")
    return x, y, defects


#: What ganaug's message says for each defect: it names what was wrong.
_SAYS = {
    "nan": "NaN or infinite",
    "empty": "empty",
    "dtype": "must be numeric|must be real numbers",
    "dimensions": "dimensions",
    "channels": "channels",
    "size": "too small for the image models|over the 512 px",
    "label type": "labels must be integers or class names",
    "label shape": "labels must be a 1-D array",
    "length": "same length",
    "one class": "at least 2 classes",
}
_GANAUG = Path(ganaug.__file__).resolve().parent


def _raised_by_ganaug(exc: BaseException) -> bool:
    """Whether the innermost frame of the traceback is ganaug's own code (a check of ganaug's, not an
    error deep inside numpy or torch that happened to be a ValueError)."""
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return _GANAUG in Path(tb.tb_frame.f_code.co_filename).resolve().parents


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_datasets())
def test_fit_and_sample_refuse_bad_input_clearly(data):
    x, y, defects = data
    aug = SyntheticAugmenter(n_steps=1, random_state=0, **SMALL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aug.fit(x, y)
    except (ValueError, TypeError) as exc:
        assert defects, f"good data was refused: {exc}"
        assert _raised_by_ganaug(exc), f"raised inside a library, not by ganaug's checks: {exc!r}"
        expected = "|".join(_SAYS[d] for d in sorted(defects))
        assert re.search(expected, str(exc)), f"the message names none of {sorted(defects)}: {exc}"
        assert not hasattr(aug, "generator_")  # nothing half-fitted
        return
    assert not defects, f"data with {sorted(defects)} was accepted"
    # accepted: then samples come back in the shape and dtype given
    xs, ys = aug.sample(4)
    assert xs.shape == (4,) + x.shape[1:] and xs.dtype == x.dtype
    assert set(np.asarray(ys).tolist()) <= set(np.asarray(y).tolist())


@settings(max_examples=30, deadline=None)
@given(
    n=st.one_of(st.integers(-3, 5), st.floats(-1, 3), st.none(), st.text(max_size=2)),
    label=st.one_of(st.none(), st.integers(-2, 4), st.text(max_size=2), st.floats(0, 2)),
)
def test_sample_arguments_are_checked(n, label):
    aug = _fitted_small()
    try:
        xs, ys = aug.sample(n, y=label)
    except (ValueError, TypeError):
        return
    assert len(xs) == n and (label is None or set(ys.tolist()) <= {label})


@settings(max_examples=25, deadline=None)
@given(
    ratio=st.one_of(
        st.floats(-2, 3), st.just(float("nan")), st.just(float("inf")), st.integers(-1, 3), st.text(max_size=1)
    ),
    refresh=st.sampled_from(["epoch", "fixed", "never", 3]),
)
def test_wrap_arguments_are_checked(ratio, refresh):
    from torch.utils.data import DataLoader, TensorDataset

    aug = _fitted_small()
    loader = DataLoader(TensorDataset(torch.rand(10, 1, 28, 28), torch.arange(10) % 2), batch_size=4)
    try:
        wrapped = aug.wrap(loader, ratio=ratio, refresh=refresh)
    except (ValueError, TypeError):
        return
    assert len(wrapped.dataset) == 10 + 2 * round(5 * ratio)


_FITTED = {}


def _fitted_small():
    if "aug" not in _FITTED:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _FITTED["aug"] = SyntheticAugmenter(n_steps=1, random_state=0, **SMALL).fit(
                (torch.rand(10, 1, 28, 28), torch.arange(10) % 2)
            )
    return _FITTED["aug"]
