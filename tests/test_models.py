"""ganaug.models: the generators and discriminators, their shapes, routing and initialisation."""

import pytest
import torch
import torch.nn.functional as F

from ganaug.config import GANConfig
from ganaug.models import ConvDiscriminator, ConvGenerator, WarpGenerator, build_models, init_weights


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("upsample", ["transposed", "nearest"])
def test_dcgan_shapes(size, channels, upsample):
    g, d = build_models(GANConfig(architecture="dcgan", g_upsample=upsample), 10, (channels, size, size))
    layers = (torch.nn.ConvTranspose2d, torch.nn.Upsample)
    assert {type(m) for m in g.modules()} & set(layers) == {layers[upsample == "nearest"]}
    x = g(torch.randn(5, g.latent_dim), torch.arange(5))
    assert x.shape == (5, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1  # tanh output
    assert d(x, torch.arange(5)).shape == (5,)


def test_unknown_upsampling_is_refused():
    with pytest.raises(ValueError, match="g_upsample must be one of"):
        GANConfig(g_upsample="bilinear")
    with pytest.raises(ValueError, match="upsample must be one of"):
        ConvGenerator(10, latent_dim=8, channels=1, size=28, upsample="bilinear")


@pytest.mark.parametrize("shape", [(30, 30), (28, 21), (100, 30)])
def test_shapes_the_networks_cannot_work_at_are_refused(shape):
    with pytest.raises(ValueError, match="cannot work at"):
        build_models(GANConfig(), 10, (1, *shape))


@pytest.mark.parametrize("architecture", ["warp", "dcgan"])
@pytest.mark.parametrize("shape", [(8, 8), (28, 20), (48, 64), (96, 128), (128, 32)])
def test_rectangles_build_and_keep_their_shape(architecture, shape):
    g, d = build_models(GANConfig(architecture=architecture), 3, (3, *shape))
    y = torch.tensor([0, 1, 2, 0])
    if architecture == "warp":
        g.set_exemplars(torch.rand(6, 3, *shape) * 2 - 1, torch.tensor([0, 1, 2, 0, 1, 2]))
    x = g(torch.randn(4, g.latent_dim), y)
    assert x.shape == (4, 3, *shape)
    assert d(x, y).shape == (4,)


def test_channels_stop_doubling_at_the_cap():
    """128 px needs five halvings: the last ones keep 8x the width instead of growing to 16x."""
    _, d = build_models(GANConfig(architecture="dcgan", d_width=8), 2, (1, 128, 128))
    widths = [m.out_channels for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert widths == [8, 16, 32, 64, 64, 64]


def _warp(n_per_class=3, n_classes=2, channels=1, size=28):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n_per_class * n_classes, channels, size, size, generator=g) * 2 - 1
    y = torch.arange(n_per_class * n_classes) % n_classes
    gen, d = build_models(GANConfig(architecture="warp"), n_classes, (channels, size, size))
    init_weights(gen, torch.Generator().manual_seed(1))
    return gen.set_exemplars(x, y), d, x, y


@pytest.mark.parametrize("size", [28, 32])
@pytest.mark.parametrize("channels", [1, 3])
def test_warp_generator_without_displacement_returns_the_picked_exemplar(size, channels):
    gen, d, x, y = _warp(channels=channels, size=size)
    assert gen(torch.randn(4, gen.latent_dim), torch.tensor([0, 1, 0, 1])).shape == (4, channels, size, size)
    torch.nn.init.zeros_(gen.flow[-2].weight)  # the last convolution: no displacement at all
    z = torch.zeros(6, gen.latent_dim)
    z[:, 0] = torch.tensor([-9.0, 0.0, 9.0, -9.0, 0.0, 9.0])  # lowest, middle, highest pick within the class
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    out = gen(z, labels)
    expected = torch.stack([x[y == 0][0], x[y == 0][1], x[y == 0][2], x[y == 1][0], x[y == 1][1], x[y == 1][2]])
    assert torch.allclose(out, expected, atol=1e-5)
    assert d(out, labels).shape == (6,)


def test_warp_generator_bends_and_keeps_its_exemplars_in_the_state_dict():
    gen, _, x, y = _warp()
    z, labels = torch.zeros(2, gen.latent_dim), torch.tensor([1, 1])
    z[1, 1:] = 3.0  # same exemplar (z[:, 0] equal), other noise: another deformation
    out = gen(z, labels)
    assert not torch.allclose(out[0], out[1])
    assert out.min() >= x.min() - 1e-6 and out.max() <= x.max() + 1e-6  # a resampling of the exemplar, no new values
    again, _ = build_models(GANConfig(architecture="warp"), 2, (1, 28, 28))
    again.load_state_dict(gen.state_dict())  # the constructor holds no exemplars; loading sizes them
    assert torch.equal(again(z, labels), out)


def test_warp_shift_is_the_largest_displacement_as_a_fraction_of_the_image():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(2, 1, 32, 32, generator=g), torch.tensor([0, 1])
    gen, _ = build_models(GANConfig(architecture="warp", warp_shift=0.125), 2, (1, 32, 32))
    gen.set_exemplars(x, y)
    torch.nn.init.zeros_(gen.flow[-2].weight)
    with torch.no_grad():
        gen.flow[-2].bias.copy_(torch.tensor([50.0, 0.0]))  # tanh saturates: the full shift along x everywhere
    out = gen(torch.zeros(1, gen.latent_dim), torch.tensor([0]))
    # 0.125 of 32 px = 4 px: each output pixel reads the exemplar 4 px to its right
    assert torch.allclose(out[0, 0, :, :-4], x[0, 0, :, 4:], atol=1e-4)


def test_warp_stroke_moves_pixels_towards_the_dilation_or_erosion_of_the_bent_image():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(2, 1, 28, 28, generator=g) * 2 - 1, torch.tensor([0, 1])
    gen, _ = build_models(GANConfig(architecture="warp", warp_stroke=0.5), 2, (1, 28, 28))
    gen.set_exemplars(x, y)
    torch.nn.init.zeros_(gen.flow[-2].weight)
    torch.nn.init.zeros_(gen.flow[-2].bias)  # no displacement: the bent image is the exemplar
    torch.nn.init.zeros_(gen.thickness[-2].weight)
    z, label = torch.zeros(1, gen.latent_dim), torch.tensor([1])
    dilated, eroded = F.max_pool2d(x[1:], 3, 1, 1), -F.max_pool2d(-x[1:], 3, 1, 1)
    for bias, target in ((50.0, dilated), (-50.0, eroded), (0.0, x[1:])):
        with torch.no_grad():
            gen.thickness[-2].bias.fill_(bias)  # tanh saturates: t = +-warp_stroke everywhere (0: no change)
        out = gen(z, label)
        assert torch.allclose(out, x[1:] + 0.5 * (target - x[1:]), atol=1e-4)
    # off by default: no stroke head, so models saved before the option load unchanged
    plain, _ = build_models(GANConfig(architecture="warp"), 2, (1, 28, 28))
    assert plain.thickness is None and not any(k.startswith("thickness") for k in plain.state_dict())
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(ValueError, match="warp_stroke"):
            GANConfig(warp_stroke=bad)


def test_warp_grid_makes_the_bends_rigid_one_shift_for_the_whole_image_at_1():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(4, 1, 28, 28, generator=g) * 2 - 1, torch.tensor([0, 1, 0, 1])
    z, label = torch.randn(4, 16, generator=g), torch.tensor([0, 1, 1, 0])

    def field(grid):
        torch.manual_seed(0)  # the same weights for every grid
        gen, _ = build_models(GANConfig(architecture="warp", latent_dim=16, warp_grid=grid), 2, (1, 28, 28))
        gen.set_exemplars(x, y)
        with torch.no_grad():
            h = gen.features(gen._pick(z, label), z, label)
            return gen.field(h, size=(28, 28)), gen.flow(h) * gen.max_shift, gen

    local, coarse, gen = field(None)
    one, _, _ = field(1)
    two, _, _ = field(2)

    def spread(f):  # how much the shift varies over each image, at most
        return f.flatten(2).std(dim=2).max().item()

    assert spread(local) > 1e-3 and spread(two) > 1e-3
    assert spread(one) < 1e-6  # one shift per image: the mean of the networks' own coarse field
    assert torch.allclose(one[:, :, 0, 0], coarse.mean(dim=(2, 3)), atol=1e-6)
    # None keeps the networks' own grid (models saved before the option sample as they did)
    assert gen.field_grid == gen.base
    for bad in (0, -1, 1.5, "2"):
        with pytest.raises(ValueError, match="warp_grid"):
            GANConfig(warp_grid=bad)


def test_warp_resample_nearest_copies_exemplar_pixels_and_still_passes_gradients():
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(4, 1, 28, 28, generator=g) * 2 - 1, torch.tensor([0, 1, 0, 1])
    z, label = torch.randn(4, 16, generator=g), torch.tensor([0, 1, 1, 0])

    def bent(resample):
        torch.manual_seed(0)  # the same weights for both
        gen, _ = build_models(GANConfig(architecture="warp", latent_dim=16, warp_resample=resample), 2, (1, 28, 28))
        return gen.set_exemplars(x, y), gen(z, label)

    _, smooth = bent("bilinear")
    gen, sharp = bent("nearest")
    values = x.flatten()
    # every pixel of a nearest sample is one of the exemplars' pixels; bilinear blends them into new values
    assert torch.isin(sharp.detach().flatten(), values).all()
    assert not torch.isin(smooth.detach().flatten(), values).all()
    with torch.no_grad():  # sampling reads only the nearest pixels: the same values as in training
        assert torch.equal(gen(z, label), sharp.detach())
    sharp.square().sum().backward()
    assert gen.flow[-2].weight.grad.abs().sum() > 0  # the field still learns through the bilinear gradient
    with pytest.raises(ValueError, match="warp_resample"):
        GANConfig(warp_resample="bicubic")


def test_warp_generator_refuses_what_it_cannot_serve():
    with pytest.raises(ValueError, match="needs images"):
        build_models(GANConfig(architecture="warp"), 2, (13,))
    with pytest.raises(ValueError, match="per_class"):
        build_models(GANConfig(architecture="warp"), 2, (1, 28, 28), per_class=True)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="warp_shift"):
            GANConfig(warp_shift=bad)
    gen = WarpGenerator(3, latent_dim=8, channels=1, size=28)
    with pytest.raises(RuntimeError, match="set_exemplars"):
        gen(torch.randn(2, 8), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="at least one exemplar"):
        gen.set_exemplars(torch.zeros(4, 1, 28, 28), torch.tensor([0, 1, 0, 1]))


def test_mlp_shapes():
    g, d = build_models(GANConfig(), 3, (13,), bounded=False)
    x = g(torch.randn(4, g.latent_dim), torch.tensor([0, 1, 2, 0]))
    assert x.shape == (4, 13)
    assert d(x, torch.tensor([0, 1, 2, 0])).shape == (4,)


def test_per_class_routes_rows_to_their_class():
    g, _ = build_models(GANConfig(), 3, (1, 28, 28), per_class=True)
    init_weights(g, torch.Generator().manual_seed(0))
    g.eval()
    z = torch.randn(6, g.latent_dim)
    y = torch.tensor([0, 1, 2, 2, 1, 0])
    out = g(z, y)
    # row 3 (class 2) must equal class-2 generator applied alone
    alone = g.per_class[2](z[3:4], torch.zeros(1, dtype=torch.long))
    assert torch.allclose(out[3:4], alone)


@pytest.mark.parametrize(
    "architecture, shape", [("dcgan", (1, 28, 28)), ("warp", (1, 28, 28)), ("mlp", (12,)), ("offset", (12,))]
)
def test_init_weights_uses_only_the_given_generator(architecture, shape):
    with torch.random.fork_rng(devices=[]):  # this test moves the global generator; the others see it untouched
        models = []
        for global_seed in (1, 2):  # torch's own initialisation of the modules differs between the two builds
            torch.manual_seed(global_seed)
            g, d = build_models(GANConfig(architecture=architecture), 10, shape)
            state = torch.random.get_rng_state()
            for module in (g, d):
                init_weights(module, torch.Generator().manual_seed(3))
            assert torch.equal(state, torch.random.get_rng_state()), "init_weights drew from torch's global generator"
            models.append((g, d))
    (g1, d1), (g2, d2) = models
    for first, second in ((g1, g2), (d1, d2)):  # every weight, bias and spectral-norm vector comes from the generator
        for (name, p1), p2 in zip(first.state_dict().items(), second.state_dict().values()):
            assert torch.equal(p1, p2), name


@pytest.mark.parametrize("size", [28, (48, 64)])
def test_discriminator_backward_stays_in_the_channels_last_layout(size):
    # mixing layouts makes the CPU's LeakyReLU backward many times slower; the values are the same either way
    d = ConvDiscriminator(3, channels=3, size=size).to(memory_format=torch.channels_last)
    h, w = (size, size) if isinstance(size, int) else size
    out = d(torch.randn(4, 3, h, w), torch.tensor([0, 1, 2, 0]))
    seen, todo, visited = [], [out.grad_fn], set()
    while todo:  # every LeakyReLU backward in the graph: record the layout of the gradient it is handed
        node = todo.pop()
        if node is None or node in visited:
            continue
        visited.add(node)
        if "LeakyRelu" in node.name():
            node.register_prehook(lambda grads: seen.append(grads[0].is_contiguous(memory_format=torch.channels_last)))
        todo += [n for n, _ in node.next_functions]
    out.sum().backward()
    assert len(seen) == sum(isinstance(m, torch.nn.LeakyReLU) for m in d.net)
    assert all(seen), seen


def test_the_layout_of_the_discriminator_gradient_leaves_its_values_alone(monkeypatch):
    import ganaug.models as models

    def grads():
        torch.manual_seed(0)
        d = ConvDiscriminator(3, channels=1, size=28).to(memory_format=torch.channels_last)
        x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(1))
        d(x, torch.arange(8) % 3).square().sum().backward()
        return [p.grad.clone() for p in d.parameters()]

    kept = grads()
    monkeypatch.setattr(models, "_grad_in_layout", lambda h: h)
    plain = grads()
    assert all(torch.equal(a, b) for a, b in zip(kept, plain))


def test_warp_reach_scales_the_field_and_travels_with_the_state_dict():
    def build():
        torch.manual_seed(0)
        gen = WarpGenerator(2, latent_dim=8, channels=1, size=28, width=8)
        return gen.set_exemplars(torch.rand(6, 1, 28, 28) * 2 - 1, torch.tensor([0, 0, 0, 1, 1, 1]))

    gen = build()
    assert gen.reach == 1.0 and "deformation_reach" not in gen.state_dict()  # unchanged files for untouched models
    trained = gen.max_shift
    gen.set_reach(0.5)
    assert gen.max_shift == trained * 0.5
    fresh = build()
    fresh.load_state_dict(gen.state_dict())
    assert fresh.reach == 0.5 and fresh.max_shift == gen.max_shift
    z, lab = torch.randn(4, 8, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1, 0, 1])
    assert torch.equal(fresh(z, lab), gen(z, lab))
