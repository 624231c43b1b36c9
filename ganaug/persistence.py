"""The model-file format of a fitted SyntheticAugmenter: what a file holds, and how it is read back.

A model file is a plain dict of builtins and tensors (see :mod:`ganaug.checkpoint`
for the safe writing and reading): the constructor's parameters, the fitted
attributes listed in :data:`PLAIN` and :data:`CONVERTED`, and the EMA generator's
weights. The augmenter hands its state to :func:`write_model_file` and restores
itself from what :func:`read_model_file` returns
(:meth:`ganaug.SyntheticAugmenter.save` and :meth:`~ganaug.SyntheticAugmenter.load`);
this module knows the file, not the estimator.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from ._version import __version__
from .checkpoint import FORMAT_VERSION, atomic_save, safe_load
from .config import CONFIG_FIELDS, GANConfig

#: GANConfig fields added after model files were first written, each with the value that every file written
#: before it was trained with: a file without the field loads with that value, not today's default.
LATER_FIELDS = {"warp_resample": "bilinear"}


def _config_from_file(d: dict) -> GANConfig:
    return GANConfig.from_dict({**LATER_FIELDS, **d})


#: Fitted attributes a model file stores as they are (builtins and CPU tensors), under their name without underscores.
PLAIN = ("value_low_", "value_high_", "images_", "dtype_", "return_numpy_", "history_", "n_steps_", "seed_")
#: Fitted attributes converted to builtins on the way to the file, and back: (write, read).
CONVERTED = {
    "config_": (GANConfig.to_dict, _config_from_file),
    "classes_": (np.ndarray.tolist, np.asarray),
    "n_samples_per_class_": (np.ndarray.tolist, np.asarray),
    "sample_shape_": (list, tuple),
    "_model_shape_": (list, tuple),
    "_real_spread_": (list, list),
}
#: Fitted attributes of flat-feature models only: the standardisation (empty tensors in the file of an image model).
FEATURE_SCALING = ("_feature_mean_", "_feature_std_")
#: Every fitted attribute a model file restores, besides the generator.
FITTED = (*PLAIN, *CONVERTED, "fit_fingerprint_", "n_pseudo_labelled_", "self_check_", *FEATURE_SCALING)


def _key(attr: str) -> str:
    return attr.strip("_")


def write_model_file(path, *, params: dict, fitted: dict, generator_state: dict) -> Path:
    """Write a model file to ``path`` atomically.

    ``params`` are the estimator's constructor parameters (``get_params(deep=False)``), ``fitted`` its
    :data:`FITTED` attributes by name (those of :data:`FEATURE_SCALING` only for flat features) and
    ``generator_state`` the EMA generator's ``state_dict``.
    """
    state = {"format_version": FORMAT_VERSION, "library_version": __version__, "kind": "model"}
    state["params"] = _params_to_file(params)
    state.update({_key(attr): fitted[attr] for attr in PLAIN})
    state.update({_key(attr): write(fitted[attr]) for attr, (write, _) in CONVERTED.items()})
    state["fingerprint"] = fitted["fit_fingerprint_"]
    state["n_pseudo_labelled"] = np.asarray(fitted["n_pseudo_labelled_"]).tolist()
    state["self_check"] = fitted.get("self_check_")  # a dict of builtins, or None
    for attr in FEATURE_SCALING:
        state[_key(attr)] = fitted.get(attr, torch.zeros(0))
    state["generator"] = {k: v.cpu() for k, v in generator_state.items()}
    return atomic_save(state, path)


def read_model_file(path) -> tuple[dict, dict, dict]:
    """``(constructor parameters, fitted attributes by name, generator state_dict)`` from a model file.

    Files of ganaug 0.1.0 (format 1) are read into the same form. Raises ``ValueError`` naming the file when it
    is not a model file or lacks an entry.
    """
    state = safe_load(path, map_location="cpu", kind="model")
    if state.get("kind") != "model":
        raise ValueError(
            f"{str(path)!r} is a ganaug {state.get('kind')!r} file, not a saved model (use SyntheticAugmenter.save)"
        )
    try:
        params = _params_from_file(state["params"])
        fitted = {attr: state[_key(attr)] for attr in PLAIN}
        fitted.update({attr: read(state[_key(attr)]) for attr, (_, read) in CONVERTED.items()})
        if "gan" not in state["params"] and fitted["config_"].architecture == "auto":  # 0.1.0: "auto" meant the DCGAN
            architecture = "dcgan" if fitted["images_"] else "mlp"
            fitted["config_"] = dataclasses.replace(fitted["config_"], architecture=architecture)
        fitted["fit_fingerprint_"] = state["fingerprint"]
        # files from before fits with unlabelled data: none joined
        joined = state.get("n_pseudo_labelled", [0] * len(fitted["classes_"]))
        fitted["n_pseudo_labelled_"] = np.asarray(joined, dtype=np.int64)
        fitted["self_check_"] = state.get("self_check")  # files from before the augmenter's self-check: none ran
        if state["feature_mean"].numel():
            fitted.update({attr: state[_key(attr)] for attr in FEATURE_SCALING})
        generator_state = state["generator"]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{str(path)!r} is damaged or incomplete: {exc!r}") from exc
    return params, fitted, generator_state


def _params_to_file(params: dict) -> dict:
    """The constructor's parameters as builtins (a model file holds no Python objects)."""
    params = dict(params)
    params["gan"] = None if params["gan"] is None else params["gan"].to_dict()
    if not isinstance(params["random_state"], (int, type(None))):
        del params["random_state"]  # a RandomState cannot be stored; the resolved seed is
    if params["checkpoint_dir"] is not None:
        params["checkpoint_dir"] = str(params["checkpoint_dir"])
    return params


def _params_from_file(saved: dict) -> dict:
    """Constructor parameters from a model file: format 2 stores ``gan`` as a dict; files of
    ganaug 0.1.0 (format 1) store every GAN hyperparameter as a keyword of its own."""
    if "gan" in saved:
        return {**saved, "gan": None if saved["gan"] is None else _config_from_file(saved["gan"])}
    params = {k: v for k, v in saved.items() if k not in CONFIG_FIELDS}
    params["gan"] = _config_from_file({k: v for k, v in saved.items() if k in CONFIG_FIELDS})
    return params
