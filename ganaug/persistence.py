"""Model files of a fitted SyntheticAugmenter: what is written, and how it is read back.

A model file is a plain dict of builtins and tensors (see :mod:`ganaug.checkpoint`
for the safe writing and reading): the constructor's parameters, the fitted
attributes listed in :data:`PLAIN` and :data:`CONVERTED`, and the EMA generator's weights.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from . import __version__
from ._validation import child_seeds, resolve_device
from .checkpoint import FORMAT_VERSION, atomic_save, safe_load
from .config import CONFIG_FIELDS, GANConfig
from .models import build_models

#: Fitted attributes a model file stores as they are (builtins and CPU tensors), under their name without underscores.
PLAIN = ("value_low_", "value_high_", "images_", "dtype_", "return_numpy_", "history_", "n_steps_", "seed_")
#: Fitted attributes converted to builtins on the way to the file, and back: (write, read).
CONVERTED = {
    "config_": (GANConfig.to_dict, GANConfig.from_dict),
    "classes_": (np.ndarray.tolist, np.asarray),
    "n_samples_per_class_": (np.ndarray.tolist, np.asarray),
    "sample_shape_": (list, tuple),
    "_model_shape_": (list, tuple),
    "_real_spread_": (list, list),
}


def _key(attr: str) -> str:
    return attr.strip("_")


def save_model(aug, path) -> Path:
    """Write a fitted augmenter to ``path`` (atomically); see :meth:`SyntheticAugmenter.save`."""
    state = {"format_version": FORMAT_VERSION, "library_version": __version__, "kind": "model"}
    state["params"] = _params_to_file(aug)
    state.update({_key(attr): getattr(aug, attr) for attr in PLAIN})
    state.update({_key(attr): write(getattr(aug, attr)) for attr, (write, _) in CONVERTED.items()})
    state["fingerprint"] = aug.fit_fingerprint_
    state["n_pseudo_labelled"] = np.asarray(aug.n_pseudo_labelled_).tolist()
    state["feature_mean"] = getattr(aug, "_feature_mean_", torch.zeros(0))  # flat features only
    state["feature_std"] = getattr(aug, "_feature_std_", torch.zeros(0))
    state["generator"] = {k: v.cpu() for k, v in aug.generator_.state_dict().items()}
    return atomic_save(state, path)


def load_model(cls, path, device=None):
    """A fitted ``cls`` from a file :func:`save_model` wrote; see :meth:`SyntheticAugmenter.load`."""
    state = safe_load(path, map_location="cpu", kind="model")
    if state.get("kind") != "model":
        raise ValueError(
            f"{str(path)!r} is a ganaug {state.get('kind')!r} file, not a saved model (use SyntheticAugmenter.save)"
        )
    try:
        params = _params_from_file(state["params"])
        if device is not None:
            params["device"] = device
        aug = cls(**params)
        for attr in PLAIN:
            setattr(aug, attr, state[_key(attr)])
        for attr, (_, read) in CONVERTED.items():
            setattr(aug, attr, read(state[_key(attr)]))
        if "gan" not in state["params"] and aug.config_.architecture == "auto":  # ganaug 0.1.0: "auto" meant the DCGAN
            aug.config_ = dataclasses.replace(aug.config_, architecture="dcgan" if aug.images_ else "mlp")
        aug.fit_fingerprint_ = state["fingerprint"]
        # files from before fits with unlabelled data: none joined
        aug.n_pseudo_labelled_ = np.asarray(state.get("n_pseudo_labelled", [0] * len(aug.classes_)), dtype=np.int64)
        if state["feature_mean"].numel():
            aug._feature_mean_, aug._feature_std_ = state["feature_mean"], state["feature_std"]
        aug.device_ = resolve_device(aug.device)
        per_class = aug.strategy == "per_class"
        with torch.random.fork_rng(devices=[]):  # building modules draws from torch's global generator
            g, _ = build_models(
                aug.config_, len(aug.classes_), aug._model_shape_, bounded=aug.images_, per_class=per_class
            )
        g.load_state_dict(state["generator"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise ValueError(f"{str(path)!r} is damaged or incomplete: {exc}") from exc
    aug.generator_ = g.to(aug.device_).eval().requires_grad_(False)
    aug._sample_gen = torch.Generator(device=aug.device_).manual_seed(child_seeds(aug.seed_, 3)[2])
    return aug


def _params_to_file(aug) -> dict:
    """The constructor's parameters as builtins (a model file holds no Python objects)."""
    params = aug.get_params(deep=False)
    params["gan"] = None if aug.gan is None else aug.gan.to_dict()
    if not isinstance(params["random_state"], (int, type(None))):
        del params["random_state"]  # a RandomState cannot be stored; the resolved seed is
    if params["checkpoint_dir"] is not None:
        params["checkpoint_dir"] = str(params["checkpoint_dir"])
    return params


def _params_from_file(saved: dict) -> dict:
    """Constructor parameters from a model file: format 2 stores ``gan`` as a dict; files of
    ganaug 0.1.0 (format 1) store every GAN hyperparameter as a keyword of its own."""
    if "gan" in saved:
        return {**saved, "gan": None if saved["gan"] is None else GANConfig.from_dict(saved["gan"])}
    params = {k: v for k, v in saved.items() if k not in CONFIG_FIELDS}
    params["gan"] = GANConfig.from_dict({k: v for k, v in saved.items() if k in CONFIG_FIELDS})
    return params
