"""The small classifier ganaug trains: the default CNN / MLP, its training loop (a fixed
budget of steps), prediction, and the loss that weights synthetic samples.

Both the core (pseudo-labels for unlabelled data, :mod:`ganaug.unlabelled`) and
:mod:`ganaug.evaluation` (every comparison) train it, so it lives in the core."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, RandomSampler
from tqdm.auto import tqdm

from ._validation import check_positive_int, child_seeds, collect_xy, resolve_device, resolve_seed
from .datasets import SyntheticDataset

DEFAULT_N_STEPS = 300
#: How the classifier's loss treats the classes. ``"cross_entropy"``: every sample counts the same.
#: ``"class_weighted"``: a sample of class k counts ``n / (K * n_k)`` (scikit-learn's ``class_weight="balanced"``).
#: ``"logit_adjusted"``: the logit-adjusted loss of Menon et al. (ICLR 2021), cross-entropy on
#: ``logits + log(n_k / n)`` during training and the plain logits at prediction, which aims at balanced error.
LOSSES = ("cross_entropy", "class_weighted", "logit_adjusted")


def collate(batch):
    """Stack samples as float32 (real and synthetic may differ in dtype); labels stay a list;
    a third item per sample (``is_synthetic``) becomes a bool tensor."""
    xs = torch.stack(
        [
            torch.as_tensor(np.asarray(b[0]) if not isinstance(b[0], torch.Tensor) else b[0]).to(torch.float32)
            for b in batch
        ]
    )
    ys = [b[1].item() if isinstance(b[1], torch.Tensor) else b[1] for b in batch]
    if len(batch[0]) == 3:
        return xs, ys, torch.tensor([bool(b[2]) for b in batch])
    return xs, ys


def weighted_cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, is_synthetic: torch.Tensor, synthetic_weight: float
) -> torch.Tensor:
    """Cross-entropy where synthetic samples count ``synthetic_weight`` and real ones 1 (a weighted mean).

    Examples
    --------
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    >>> target = torch.tensor([0, 0])
    >>> flags = torch.tensor([False, True])
    >>> full = F.cross_entropy(logits, target, reduction="none")
    >>> bool(torch.isclose(weighted_cross_entropy(logits, target, flags, 0.5), (full[0] + 0.5 * full[1]) / 1.5))
    True
    """
    w = torch.where(is_synthetic.to(logits.device), float(synthetic_weight), 1.0)
    return (F.cross_entropy(logits, target, reduction="none") * w).sum() / w.sum()


def class_loss(loss: str, class_counts) -> Callable:
    """The training loss ``f(logits, target, is_synthetic=None, synthetic_weight=1.0)`` of one of :data:`LOSSES`.

    ``class_counts[k]`` is how many training samples the classifier sees of class ``k``; it sets the class
    weights and the logit adjustment (a class it never sees gets weight 0 and the prior of one sample).

    Examples
    --------
    >>> logits, target = torch.zeros(4, 2), torch.tensor([0, 0, 0, 1])
    >>> round(float(class_loss("logit_adjusted", [3, 1])(logits, target)), 4)  # log-priors added to the logits
    0.5623
    >>> logits = torch.tensor([[1.0, 0.0]] * 4)  # weights 2/3 and 2: each class carries half of the loss
    >>> per_class = F.cross_entropy(logits[:2], torch.tensor([0, 1]), reduction="none")
    >>> bool(torch.isclose(class_loss("class_weighted", [3, 1])(logits, target), per_class.mean()))
    True
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}; got {loss!r}")
    counts = torch.as_tensor(np.asarray(class_counts, dtype=np.float64), dtype=torch.float32)
    shift = class_weight = None
    if loss == "logit_adjusted":
        shift = torch.log(counts.clamp(min=1.0) / counts.clamp(min=1.0).sum())
    elif loss == "class_weighted":
        seen = counts > 0
        class_weight = torch.where(seen, counts.sum() / (seen.sum() * counts.clamp(min=1.0)), 0.0)

    def fn(logits, target, is_synthetic=None, synthetic_weight=1.0):
        if shift is not None:
            logits = logits + shift.to(logits.device, logits.dtype)
        if class_weight is None:
            if is_synthetic is None:
                return F.cross_entropy(logits, target)
            return weighted_cross_entropy(logits, target, is_synthetic, synthetic_weight)
        w = class_weight.to(logits.device)[target]
        if is_synthetic is not None:
            w = w * torch.where(is_synthetic.to(logits.device), float(synthetic_weight), 1.0)
        return (F.cross_entropy(logits, target, reduction="none") * w).sum() / w.sum()

    return fn


#: Images larger than this on either side get the ResNet-style features of :func:`residual_features`.
SMALL_IMAGE_SIDE = 64


class _Residual(nn.Module):
    """Two 3x3 convolutions with batch norm, added to the input (1x1-projected where the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.skip = (
            nn.Identity()
            if stride == 1 and c_in == c_out
            else nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


def residual_features(channels: int) -> nn.Sequential:
    """(B, channels, H, W) -> (B, 64): a small ResNet-style network for images above 64 px.

    A strided 5x5 stem and a max-pool bring the image to a quarter of its size (the cost of a step grows with
    the image only there), then three residual blocks (24, 48 and 64 channels, the last two strided) and an
    average pool to a 4 x 4 grid, which keeps where things are, as the 2-block CNN does (a global average lost
    half of the accuracy of real images alone on colour glyphs: ``python benchmarks/classifier_choice.py``).
    """
    return nn.Sequential(
        nn.Conv2d(channels, 24, 5, 2, 2, bias=False),
        nn.BatchNorm2d(24),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (24, H/4, W/4)
        _Residual(24, 24, 1),
        _Residual(24, 48, 2),  # (48, H/8, W/8)
        _Residual(48, 64, 2),  # (64, H/16, W/16)
        nn.AdaptiveAvgPool2d(4),  # (64, 4, 4)
        nn.Flatten(),
        nn.Linear(64 * 16, 64),
        nn.ReLU(),  # (64,)
    )


class DefaultClassifier(nn.Module):
    """The small classifier used when no ``model_fn`` is given.

    A 2-block CNN for images ``(C, H, W)`` or ``(H, W)`` up to
    :data:`SMALL_IMAGE_SIDE` px a side, a small ResNet-style network
    (:func:`residual_features`) for larger ones, a 2-layer MLP for flat
    features, all behind a fixed standardisation with the training data's
    mean and standard deviation (so inputs stay in their own value space).
    :meth:`embed` gives the 64-dimensional penultimate features.
    """

    def __init__(self, sample_shape: Sequence[int], n_classes: int, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.sample_shape = tuple(int(s) for s in sample_shape)
        self.image = len(self.sample_shape) in (2, 3)
        self.register_buffer("mean", mean.to(torch.float32))
        self.register_buffer("std", std.to(torch.float32))
        if self.image and max(self.sample_shape[-2:]) > SMALL_IMAGE_SIDE:
            self.features = residual_features(self.sample_shape[0] if len(self.sample_shape) == 3 else 1)
        elif self.image:
            c = self.sample_shape[0] if len(self.sample_shape) == 3 else 1
            self.features = nn.Sequential(
                nn.Conv2d(c, 16, 3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),  # (16, H/2, W/2)
                nn.Conv2d(16, 32, 3, padding=1),
                nn.ReLU(),
                nn.AdaptiveAvgPool2d(4),  # (32, 4, 4)
                nn.Flatten(),
                nn.Linear(32 * 16, 64),
                nn.ReLU(),  # (64,)
            )
        else:
            n_in = int(np.prod(self.sample_shape))
            # (n_in,) -> (64,)
            self.features = nn.Sequential(nn.Flatten(), nn.Linear(n_in, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU())
        self.head = nn.Linear(64, n_classes)

    @classmethod
    def for_data(cls, x: torch.Tensor, n_classes: int) -> DefaultClassifier:
        """A classifier sized and standardised for training samples ``x``."""
        if x.dim() in (3, 4):
            xi = x.unsqueeze(1) if x.dim() == 3 else x
            mean = xi.mean(dim=(0, 2, 3)).view(-1, 1, 1)
            std = xi.std(dim=(0, 2, 3)).view(-1, 1, 1)
        else:
            flat = x.reshape(x.shape[0], -1)
            mean, std = flat.mean(0), flat.std(0) if flat.shape[0] > 1 else torch.ones(flat.shape[1])
        std = torch.where(torch.isfinite(std) & (std > 1e-8), std, torch.ones_like(std))
        return cls(tuple(x.shape[1:]), n_classes, mean, std)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(N, 64)``."""
        if self.image and x.dim() == 3:
            x = x.unsqueeze(1)
        if not self.image:
            x = x.reshape(x.shape[0], -1)
        return self.features((x - self.mean) / self.std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


@contextmanager
def seeded_global_rng(seed: int, device: torch.device):
    """Seed torch's global generators for a block and restore them afterwards.

    Model initialisation inside ``model_fn``, dropout and torchvision's random
    transforms draw from the global generators; forking them makes a run
    reproducible without changing the caller's random stream.
    """
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.random.default_generator.manual_seed(int(seed))
        for d in devices:
            with torch.cuda.device(d):
                torch.cuda.manual_seed(int(seed))
        yield


def label_indices(labels, lookup: dict) -> torch.Tensor:
    try:
        return torch.tensor([lookup[v.item() if hasattr(v, "item") else v] for v in labels], dtype=torch.long)
    except KeyError as exc:
        raise ValueError(f"label {exc.args[0]!r} is not one of the training classes {list(lookup)}") from exc


def _train_loop(
    model: nn.Module,
    loader,
    lookup: dict,
    *,
    n_steps: int,
    lr: float,
    device: torch.device,
    verbose: int,
    desc: str,
    synthetic_weight: float = 1.0,
    loss_fn: Callable,
) -> nn.Module:
    """Adam on ``loss_fn`` (:func:`class_loss`) for exactly ``n_steps`` batches, cycling over the loader's epochs
    (synthetic samples weighted by ``synthetic_weight`` when batches carry the flag).

    Every step sees a full batch: an epoch's last batch, when smaller than its first, is left out (as
    ``drop_last=True`` would). Otherwise how the number of samples divides by the batch size decides how often a
    step sees only a few of them: 10 images of each of 10 classes with 1 synthetic image per real one make 200 a
    epoch, and one step in four would see 8, which cost the classifier more than the samples added (see
    docs/evaluation.md, "Full batches").
    """
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    step = 0
    with tqdm(total=n_steps, desc=desc, disable=verbose < 2, leave=False) as bar:
        while step < n_steps:
            seen, full = 0, None
            for batch in loader:
                size = len(batch[1])
                full = size if full is None else full
                if size < full:  # the epoch's remainder: a step on a few samples would outweigh them
                    continue
                x, y = batch[0].to(device, torch.float32), label_indices(batch[1], lookup).to(device)
                flags = batch[2] if len(batch) == 3 else None
                loss = loss_fn(model(x), y, flags, synthetic_weight)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                seen += 1
                bar.update(1)
                if step >= n_steps:
                    break
            if seen == 0:
                raise ValueError(
                    "the training loader yielded no batches (empty data, or drop_last with too few samples)"
                )
    return model.eval()


@torch.no_grad()
def predict_proba(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    try:
        out = [
            F.softmax(model(x[i : i + batch_size].to(device, torch.float32)).float(), dim=1).cpu()
            for i in range(0, x.shape[0], batch_size)
        ]
    finally:
        model.train(was_training)
    return torch.cat(out)


def fit_classifier(
    data,
    *,
    model_fn: Callable[[], nn.Module] | None = None,
    train_fn: Callable | None = None,
    n_steps: int = DEFAULT_N_STEPS,
    batch_size: int = 64,
    lr: float = 1e-3,
    loss: str = "cross_entropy",
    random_state=0,
    device: str = "auto",
    verbose: int = 0,
) -> nn.Module:
    """Train a classifier on real labelled data with a fixed budget of steps.

    The model (``model_fn()``, or a :class:`DefaultClassifier`) outputs one
    logit per class in the order of the sorted class labels, which are stored
    on it as ``classes_``; it can then gate samples
    (:class:`SyntheticFilter`) or provide features
    (:func:`distribution_metrics`).

    Parameters
    ----------
    data : tuple (X, y), Dataset or DataLoader
        Training data (read once into memory).
    model_fn : callable, optional
        Returns a fresh ``nn.Module`` mapping a batch of samples, in the
        data's value space and shape, to class logits.
    train_fn : callable, optional
        ``train_fn(model, loader, device=..., seed=...)`` trains the model in
        place (or returns it); ``loader`` yields ``(x float32 batch, list of
        labels)``. Default: Adam on cross-entropy for ``n_steps`` batches.
    n_steps, batch_size, lr : int, int, float
        Budget of the default loop.
    loss : {"cross_entropy", "class_weighted", "logit_adjusted"}
        The default loop's loss (:data:`LOSSES`): for imbalanced classes, class weights
        ``n / (K * n_k)`` or the logit-adjusted loss of Menon et al. (2021).
    random_state : int
        Seeds initialisation, shuffling and dropout (the caller's global torch
        random state is left as it was).
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``...
    verbose : int
        2 shows a progress bar.

    Returns
    -------
    nn.Module in eval mode, with ``classes_``.

    Examples
    --------
    >>> import torch
    >>> X = torch.cat([torch.zeros(20, 2), torch.ones(20, 2)]); y = [0] * 20 + [1] * 20
    >>> clf = fit_classifier((X, y), n_steps=50, random_state=0)
    >>> clf(torch.tensor([[0.0, 0.0], [1.0, 1.0]])).argmax(1).tolist(), clf.classes_.tolist()
    ([0, 1], [0, 1])
    """
    x, labels, _, _ = collect_xy(data)
    classes = np.unique(labels)
    seed = resolve_seed(random_state)
    dev = resolve_device(device)
    return train_classifier(
        x,
        labels,
        classes,
        seed=seed,
        device=dev,
        model_fn=model_fn,
        train_fn=train_fn,
        n_steps=n_steps,
        batch_size=batch_size,
        lr=lr,
        verbose=verbose,
        desc="classifier",
        loss=loss,
    )


def train_classifier(
    x,
    labels,
    classes,
    *,
    seed,
    device,
    loader=None,
    model_fn=None,
    train_fn=None,
    n_steps,
    batch_size,
    lr,
    verbose,
    desc,
    base_x=None,
    synthetic_weight=1.0,
    loss="cross_entropy",
    class_counts=None,
):
    """Build (under a forked, seeded global RNG) and train one torch classifier.

    ``loss`` is one of :data:`LOSSES`; its class frequencies are ``class_counts`` (per class of ``classes``),
    by default those of ``labels``."""
    init_seed, data_seed = child_seeds(seed, 2)
    lookup = {c: i for i, c in enumerate(classes.tolist())}
    if class_counts is None:
        class_counts = np.bincount(label_indices(labels, lookup).numpy(), minlength=len(classes))
    loss_fn = class_loss(loss, class_counts)
    with seeded_global_rng(init_seed, device):
        if model_fn is None:
            model = DefaultClassifier.for_data(base_x if base_x is not None else x, len(classes))
        else:
            model = model_fn()
            if not isinstance(model, nn.Module):
                raise TypeError(f"model_fn must return a torch nn.Module; got {type(model).__name__}")
        model = model.to(device)
        if model_fn is None and model.image and device.type == "cpu":
            # channels-last convolutions: a quarter to a third less time per step on CPU (benchmarks/classifier_speed.py)
            model = model.to(memory_format=torch.channels_last)
        if loader is None:
            loader = DataLoader(
                SyntheticDataset(x, labels),
                batch_size=batch_size,
                sampler=RandomSampler(range(len(x)), generator=torch.Generator().manual_seed(data_seed)),
                collate_fn=collate,
            )
        if train_fn is not None:
            out = train_fn(model, loader, device=device, seed=data_seed)
            model = out if isinstance(out, nn.Module) else model
        else:
            model = _train_loop(
                model,
                loader,
                lookup,
                n_steps=check_positive_int(n_steps, "n_steps"),
                lr=lr,
                device=device,
                verbose=verbose,
                desc=desc,
                synthetic_weight=synthetic_weight,
                loss_fn=loss_fn,
            )
    model.eval()
    model.classes_ = classes
    return model
