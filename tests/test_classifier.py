"""ganaug.classifier: the default classifier's training and its weighted loss."""

import pytest
import torch

from ganaug.evaluation import fit_classifier

pytestmark = pytest.mark.usefixtures("one_thread_torch_and_blas")


def test_fit_classifier_is_deterministic_and_leaves_global_rng_alone():
    X = torch.cat([torch.zeros(20, 3), torch.ones(20, 3)]) + 0.1 * torch.randn(
        40, 3, generator=torch.Generator().manual_seed(0)
    )
    y = [0] * 20 + [1] * 20
    state = torch.get_rng_state()
    a = fit_classifier((X, y), n_steps=20, random_state=7)
    b = fit_classifier((X, y), n_steps=20, random_state=7)
    c = fit_classifier((X, y), n_steps=20, random_state=8)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


def test_weighted_cross_entropy_weighs_synthetic_samples():
    from ganaug.evaluation import weighted_cross_entropy

    g = torch.Generator().manual_seed(0)
    logits, target = torch.randn(6, 3, generator=g), torch.tensor([0, 1, 2, 0, 1, 2])
    flags = torch.tensor([False, False, False, True, True, True])
    per = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    assert torch.isclose(weighted_cross_entropy(logits, target, flags, 1.0), per.mean())
    assert torch.isclose(
        weighted_cross_entropy(logits, target, flags, 0.25), (per[:3].sum() + 0.25 * per[3:].sum()) / 3.75
    )


def _overlapping_classes(n_major, n_minor, seed):
    """Two overlapping 2-D Gaussian classes, ``n_major`` rows of class 0 around 0 and ``n_minor`` of class 1 around 1."""
    g = torch.Generator().manual_seed(seed)
    x = torch.cat([torch.randn(n_major, 2, generator=g), torch.randn(n_minor, 2, generator=g) + 1.0])
    return x, [0] * n_major + [1] * n_minor


@pytest.mark.parametrize("loss", ["class_weighted", "logit_adjusted"])
def test_imbalance_losses_raise_the_minority_recall_and_the_balanced_accuracy(loss):
    x, y = _overlapping_classes(400, 20, seed=0)
    test_x, test_y = _overlapping_classes(500, 500, seed=1)
    test_y = torch.tensor(test_y)

    def scores(model):
        pred = model(test_x).argmax(1)
        recall = [float((pred[test_y == k] == k).float().mean()) for k in (0, 1)]
        return recall[1], sum(recall) / 2

    plain = scores(fit_classifier((x, y), n_steps=300, random_state=0))
    other = scores(fit_classifier((x, y), n_steps=300, random_state=0, loss=loss))
    assert plain[0] < 0.35  # cross-entropy mostly predicts the large class where the two overlap
    assert other[0] > plain[0] + 0.3
    assert other[1] > plain[1] + 0.05


def test_class_loss_weighs_classes_and_shifts_logits_by_the_log_prior():
    from ganaug.classifier import class_loss

    g = torch.Generator().manual_seed(0)
    logits, target = torch.randn(6, 3, generator=g), torch.tensor([0, 0, 0, 1, 1, 2])
    per = torch.nn.functional.cross_entropy(logits, target, reduction="none")
    per_class_mean = torch.stack([per[:3].mean(), per[3:5].mean(), per[5:].mean()]).mean()
    assert torch.isclose(class_loss("class_weighted", [3, 2, 1])(logits, target), per_class_mean)
    shifted = logits + torch.log(torch.tensor([3.0, 2.0, 1.0]) / 6)
    assert torch.isclose(
        class_loss("logit_adjusted", [3, 2, 1])(logits, target),
        torch.nn.functional.cross_entropy(shifted, target),
    )
    assert torch.equal(
        class_loss("cross_entropy", [3, 2, 1])(logits, target), torch.nn.functional.cross_entropy(logits, target)
    )
    with pytest.raises(ValueError, match="loss must be one of"):
        class_loss("focal", [3, 2, 1])


def test_images_above_64_px_get_the_residual_network_and_it_learns():
    from ganaug.classifier import DefaultClassifier

    small = DefaultClassifier.for_data(torch.rand(4, 3, 64, 64), 2)
    large = DefaultClassifier.for_data(torch.rand(4, 3, 96, 128), 2)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in small.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in large.modules())
    assert large.embed(torch.rand(5, 3, 96, 128)).shape == (5, 64)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(80, 3, 80, 96, generator=g) * 0.3
    y = torch.arange(80) % 2
    x[y == 1, :, :40] += 0.6  # class 1: a bright top half
    clf = fit_classifier((x, y), n_steps=60, random_state=0)
    assert (clf(x).argmax(1) == y).float().mean() > 0.9


class _BatchSizes(torch.nn.Module):
    """A linear classifier that records the size of every batch it trains on."""

    def __init__(self):
        super().__init__()
        self.linear, self.sizes = torch.nn.Linear(2, 2), []

    def forward(self, x):
        if self.training:
            self.sizes.append(x.shape[0])
        return self.linear(x)


@pytest.mark.parametrize("n, expected", [(70, 64), (30, 30)])
def test_every_step_sees_a_full_batch(n, expected):
    # 70 samples in batches of 64 leave 6 at the end of each epoch: that step is skipped, so that how the data
    # divides by the batch size never gives a few samples a step of their own; fewer than a batch train as one
    X = torch.randn(n, 2)
    y = [0, 1] * (n // 2)
    model = _BatchSizes()
    fit_classifier((X, y), model_fn=lambda: model, n_steps=5, batch_size=64, random_state=0)
    assert model.sizes == [expected] * 5
