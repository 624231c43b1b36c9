"""ganaug.training: the training loop and its losses, determinism, resume and CUDA graphs."""

import numpy as np
import pytest
import torch

from ganaug.config import GANConfig
from ganaug.losses import mode_seeking_loss, paired_choice, paired_labels
from ganaug.models import build_models, init_weights
from ganaug.training import GANTrainer


def test_warp_pairs_share_their_exemplar_during_training():
    z = torch.randn(5, 4)
    paired = paired_choice(z)
    assert torch.equal(paired[1::2, 0], z[0::2, 0][:2]) and torch.equal(paired[:, 1:], z[:, 1:])
    assert torch.equal(paired[0::2], z[0::2])


def _trainer(n_steps, seed=0, **kw):
    cfg = GANConfig(n_steps=n_steps, batch_size=8, log_every=2, **{"architecture": "dcgan", **kw})
    g, d = build_models(cfg, 2, (1, 28, 28))
    gen = torch.Generator().manual_seed(seed)
    init_weights(g, gen)
    init_weights(d, gen)
    return GANTrainer(g, d, cfg, device="cpu", seed=seed)


def _data():
    gen = torch.Generator().manual_seed(1)
    return torch.rand(32, 1, 28, 28, generator=gen) * 2 - 1, torch.arange(32) % 2


def test_the_training_images_are_held_once_by_the_generator_its_ema_copy_and_a_rollback_snapshot():
    """Training never writes the warp generator's exemplars: the EMA generator and the last good state share them
    (not three copies of a large training set), while the weights they hold are copies of their own."""
    cfg = GANConfig(n_steps=4, batch_size=8, log_every=2, architecture="warp")
    x, y = _data()
    g, d = build_models(cfg, 2, (1, 28, 28))
    g.set_exemplars(x, y)
    t = GANTrainer(g, d, cfg, device="cpu", seed=0)
    images = t.G.exemplars.data_ptr()
    good = t._snapshot()
    assert t.G_ema.exemplars.data_ptr() == images
    assert good["G"]["exemplars"].data_ptr() == images == good["G_ema"]["exemplars"].data_ptr()
    t.fit(x, y, n_classes=2, verbose=0)
    assert t.G_ema.exemplars.data_ptr() == t.G.exemplars.data_ptr()
    weights = [name for name, _ in t.G.named_parameters()]
    assert not any(t.G_ema.get_parameter(n).data_ptr() == t.G.get_parameter(n).data_ptr() for n in weights)
    trained = {k: v.clone() for k, v in t.G_ema.state_dict().items()}
    t.load_state_dict(good)  # a rollback: the state before training, the images shared again
    assert t.G_ema.exemplars.data_ptr() == t.G.exemplars.data_ptr()
    assert torch.equal(t.G.exemplars, trained["exemplars"])
    assert not torch.equal(t.G_ema.get_parameter(weights[0]), trained[weights[0]])


@pytest.mark.parametrize("loss", ["nonsaturating", "minimax", "hinge", "wasserstein-gp"])
def test_every_loss_trains_and_logs_finite_losses(loss):
    x, y = _data()
    t = _trainer(4, loss=loss).fit(x, y, n_classes=2, verbose=0)
    assert t.step == 4
    assert t.history["step"] == [2, 4]
    assert np.all(np.isfinite(t.history["d_loss"])) and np.all(np.isfinite(t.history["g_loss"]))


def test_training_changes_the_generator_and_never_touches_global_rng():
    x, y = _data()
    t = _trainer(3)
    before = [p.clone() for p in t.G.parameters()]
    state = torch.random.get_rng_state()
    t.fit(x, y, n_classes=2, verbose=0)
    assert torch.equal(state, torch.random.get_rng_state())
    assert any(not torch.equal(a, b) for a, b in zip(before, t.G.parameters()))


def test_same_seed_same_weights_different_seed_different_weights():
    x, y = _data()
    a = _trainer(3, seed=0).fit(x, y, n_classes=2, verbose=0)
    b = _trainer(3, seed=0).fit(x, y, n_classes=2, verbose=0)
    c = _trainer(3, seed=1).fit(x, y, n_classes=2, verbose=0)
    wa, wb, wc = (torch.cat([p.flatten() for p in t.G_ema.parameters()]) for t in (a, b, c))
    assert torch.equal(wa, wb)
    assert not torch.equal(wa, wc)


def test_resume_equals_uninterrupted(tmp_path):
    x, y = _data()
    straight = _trainer(8).fit(x, y, n_classes=2, verbose=0)
    first = _trainer(8)
    first.cfg.n_steps = 4  # a fit stopped half-way, after its checkpoint at step 4
    first.fit(x, y, n_classes=2, verbose=0, checkpoint_dir=tmp_path, checkpoint_every=4)
    resumed = _trainer(8)
    assert resumed.resume(tmp_path) == {}
    assert resumed.step == 4
    resumed.fit(x, y, n_classes=2, verbose=0)
    for a, b in zip(straight.G_ema.state_dict().values(), resumed.G_ema.state_dict().values()):
        assert torch.equal(a, b)
    assert straight.history == resumed.history


def test_channels_last_is_a_memory_order_not_another_model():
    assert GANConfig().uses_channels_last("cpu") and not GANConfig().uses_channels_last("cuda")
    assert GANConfig(channels_last=True).uses_channels_last("cuda") and not GANConfig(
        channels_last=False
    ).uses_channels_last("cpu")
    for bad in ("yes", 1, None):
        with pytest.raises(ValueError, match="channels_last must be one of 'auto', True, False"):
            GANConfig(channels_last=bad)
    x, y = _data()
    last = _trainer(6, channels_last=True)
    plain = _trainer(6, channels_last=False)
    conv = [p for p in last.D.parameters() if p.dim() == 4]
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in conv)
    assert any(not p.is_contiguous() for p in conv)  # a 1-channel kernel is both orders at once
    assert all(p.is_contiguous() for p in plain.D.parameters())
    last.fit(x, y, n_classes=2, verbose=0)
    plain.fit(x, y, n_classes=2, verbose=0)
    # same weights up to the rounding of other convolution kernels
    for (name, a), b in zip(last.G_ema.state_dict().items(), plain.G_ema.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-3), name
    z = torch.randn(4, last.G_ema.latent_dim)
    assert torch.allclose(
        last.G_ema(z, torch.tensor([0, 1, 0, 1])), plain.G_ema(z, torch.tensor([0, 1, 0, 1])), atol=1e-4
    )


def test_aux_weight_g_changes_only_the_generator_objective():
    for bad in (-1.0, True, "3"):
        with pytest.raises(ValueError, match="aux_weight_g must be None or a number >= 0"):
            GANConfig(aux_weight_g=bad)
    x, y = _data()
    default, same, off = (
        _trainer(1, **kw).fit(x, y, n_classes=2, verbose=0) for kw in ({}, {"aux_weight_g": 3.0}, {"aux_weight_g": 0.0})
    )
    flat = lambda m: torch.cat([p.detach().flatten() for p in m.parameters()])  # noqa: E731
    assert torch.equal(flat(default.G), flat(same.G))  # None means aux_weight
    assert torch.equal(flat(default.D), flat(off.D))  # the discriminator's update does not see it
    assert not torch.equal(flat(default.G), flat(off.G))


def test_mode_seeking_pairs_rows_of_one_class_and_rewards_distance():
    assert paired_labels(torch.tensor([3, 1, 4, 1, 5])).tolist() == [3, 3, 4, 4, 5]
    z = torch.zeros(4, 2)
    z[1::2] = 1.0  # |z1 - z2| = 1 for both pairs
    near = torch.zeros(4, 1, 2, 2)
    far = near.clone()
    far[1::2] = 0.5  # images move half as far as their noise
    assert mode_seeking_loss(far, z).item() == pytest.approx(1 / (0.5 + 1e-5))
    assert mode_seeking_loss(near, z).item() == pytest.approx(1e5)  # identical pairs: the largest penalty
    assert mode_seeking_loss(far[:1], z[:1]).item() == 0.0  # no pair in a batch of one


def test_diversity_weight_spreads_the_samples_of_a_class():
    # 2 images per class: without the term the generator collapses towards them
    gen = torch.Generator().manual_seed(3)
    x, y = torch.rand(4, 1, 28, 28, generator=gen) * 2 - 1, torch.tensor([0, 0, 1, 1])
    z = torch.randn(64, 64, generator=gen)
    spread = {}
    for weight in (0.0, 1.0):
        t = _trainer(60, diversity_weight=weight, ema_decay=0.0).fit(x, y, n_classes=2, verbose=0)
        t.G.eval()
        with torch.no_grad():
            imgs = t.G(z, torch.zeros(64, dtype=torch.long))
        spread[weight] = (imgs[0::2] - imgs[1::2]).abs().mean().item()
    assert spread[1.0] > 1.3 * spread[0.0]


@pytest.mark.cuda
def test_cuda_graph_records_one_step_and_replays_it():
    cfg = GANConfig(n_steps=40, batch_size=16, g_width=8, d_width=8, latent_dim=8, log_every=10, architecture="dcgan")
    x, y = torch.rand(32, 1, 28, 28) * 2 - 1, torch.arange(32) % 2
    runs = {}
    for graph in (True, False):
        c = GANConfig(**{**cfg.to_dict(), "cuda_graph": graph})
        g, d = build_models(c, 2, (1, 28, 28))
        init_weights(g, torch.Generator().manual_seed(0))
        init_weights(d, torch.Generator().manual_seed(1))
        start = [p.detach().clone().cuda() for p in g.parameters()]
        runs[graph] = GANTrainer(g, d, c, device=torch.device("cuda"), seed=0).fit(x, y, n_classes=2, verbose=0)
    t = runs[True]
    assert t.use_graph and t._graph is not None and not runs[False].use_graph
    assert t.step == 40 and t.history["step"] == [10, 20, 30, 40]
    assert all(np.isfinite(v) for key in ("d_loss", "g_loss") for v in t.history[key])
    # the replayed steps moved the weights as eager steps do (40 Adam steps of lr 2e-4 move a weight
    # by at most 0.008; the two runs draw different noise, so they agree to that scale, not exactly)
    moved = max(float((p - s0).abs().max()) for p, s0 in zip(t.G.parameters(), start))
    assert moved > 1e-3
    for a, b in ((t.G, runs[False].G), (t.G_ema, runs[False].G_ema)):
        for (name, p), q in zip(a.named_parameters(), b.parameters()):
            assert torch.isfinite(p).all() and (p - q).abs().max() < 0.02, name
    # a second fit on new tensors records again instead of replaying the old ones
    t.cfg = GANConfig(**{**cfg.to_dict(), "n_steps": 50})
    t.fit(x.clone(), y.clone(), n_classes=2, verbose=0)
    assert t.step == 50 and t._graph is not None


@pytest.mark.cuda
def test_per_class_on_cuda_trains_without_a_graph():
    # per-class routing needs a data-dependent nonzero, which a CUDA graph cannot record
    from ganaug import GANConfig, SyntheticAugmenter

    gan = GANConfig(batch_size=8, g_width=8, d_width=8, latent_dim=8)
    aug = SyntheticAugmenter(gan=gan, strategy="per_class", n_steps=8, verbose=0, random_state=0, device="cuda")
    aug.fit((torch.rand(24, 1, 28, 28), torch.arange(24) % 3))
    xs, ys = aug.sample(6)
    assert xs.shape == (6, 1, 28, 28) and sorted(set(ys.tolist())) == [0, 1, 2]


@pytest.mark.cuda
@pytest.mark.parametrize("stroke", [0.0, 0.5])
def test_warp_generator_trains_under_a_cuda_graph(stroke):
    from ganaug import SyntheticAugmenter

    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(30, 1, 28, 28, generator=gen) * 0.5 + 0.25, torch.arange(30) % 3
    gan = GANConfig(batch_size=16, log_every=10, warp_stroke=stroke, real_augment=1.0, diversity_weight=1.0)
    aug = SyntheticAugmenter(gan=gan, architecture="warp", n_steps=20, verbose=0, random_state=0, device="cuda")
    aug.fit((x, y))
    assert aug.n_steps_ == 20 and all(np.isfinite(v) for v in aug.history_["g_loss"])
    xs, ys = aug.sample(30, random_state=1)
    assert xs.shape == (30, 1, 28, 28) and ys.bincount().tolist() == [10, 10, 10]
    assert xs.min() >= 0.25 - 1e-3 and xs.max() <= 0.75 + 1e-3  # bent training images, in their value range


@pytest.mark.parametrize("balanced, share", [(True, 0.5), (False, 0.05)])
def test_class_balanced_batches_show_a_small_class_as_often_as_a_large_one(balanced, share):
    """95 rows of class 0, 5 of class 1: with class_balanced the discriminator sees class 1 in half its real rows."""
    cfg = GANConfig(architecture="mlp", n_steps=40, batch_size=32, mlp_hidden=16, latent_dim=8, class_balanced=balanced)
    g, d = build_models(cfg, 2, (6,))
    trainer = GANTrainer(g, d, cfg, device="cpu", seed=0)
    x, y = torch.randn(100, 6), torch.cat([torch.zeros(95), torch.ones(5)]).long()
    seen = []
    draw = trainer._batch
    trainer._batch = lambda *args: seen.append(draw(*args)) or seen[-1]
    trainer.fit(x, y, n_classes=2, verbose=0)
    rows = torch.cat([r for r, _ in seen])
    labels = torch.cat([lab for _, lab in seen])
    assert abs(labels.float().mean().item() - share) < 0.05
    # every drawn row is a training row of the label it came with; each of the 5 small-class rows is drawn
    assert all((x[y == lab] == row).all(1).any() for row, lab in zip(rows[:64], labels[:64]))
    assert torch.equal(rows[labels == 1].unique(dim=0), x[95:].unique(dim=0))


def test_class_balanced_auto_is_on_for_flat_features_only():
    assert GANConfig().resolve(images=False).class_balanced is True
    assert GANConfig().resolve(images=True).class_balanced is False
    assert GANConfig(class_balanced=False).resolve(images=False).class_balanced is False
