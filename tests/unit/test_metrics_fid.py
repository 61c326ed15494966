"""FID and KID: numerical fidelity, batch-size independence, process reduction, the cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from anime_gan.data.dataset import FaceDataset
from anime_gan.data.priors import LabelPrior
from anime_gan.errors import UserError
from anime_gan.metrics.context import EvalContext
from anime_gan.metrics.features import (
    RandomFeatures,
    StatsCache,
    dataset_fingerprint,
    module_fingerprint,
)
from anime_gan.metrics.fid import (
    FrechetDistance,
    check_extractor,
    frechet_distance,
    trace_sqrt_product,
)
from anime_gan.metrics.kid import KernelDistance, polynomial_mmd
from anime_gan.metrics.protocols import FIDProtocol, get_protocol


def _random_cov(d: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


def _with_exact_moments(n: int, mu: torch.Tensor, cov: torch.Tensor, seed: int) -> torch.Tensor:
    """n samples whose sample mean and unbiased covariance are exactly mu and cov."""
    x = torch.randn(n, len(mu), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    x = x - x.mean(0)
    white = torch.linalg.cholesky(torch.linalg.inv(x.T @ x / (n - 1)))
    x = x @ white  # sample covariance = I
    return x @ torch.linalg.cholesky(cov).T + mu


def test_fid_of_a_set_with_itself_is_zero():
    feats = torch.randn(400, 24, generator=torch.Generator().manual_seed(0)) * 3 + 1
    m = FrechetDistance(num_features=24)
    m.update(feats, real=True)
    m.update(feats, real=False)
    assert abs(float(m.compute())) < 1e-9 * float(feats.var(0).sum())


@pytest.mark.parametrize("d", [4, 16, 48])
def test_trace_sqrt_matches_scipy_sqrtm(d):
    linalg = pytest.importorskip("scipy.linalg")
    s1, s2 = _random_cov(d, 1), _random_cov(d, 2) * 2.5
    mu1, mu2 = torch.randn(d, dtype=torch.float64), torch.randn(d, dtype=torch.float64)
    ref_sqrt = linalg.sqrtm(s1.numpy() @ s2.numpy())
    ref = float(((mu1 - mu2) ** 2).sum() + s1.trace() + s2.trace() - 2 * np.trace(ref_sqrt).real)
    ours = float(frechet_distance(mu1, s1, mu2, s2))
    assert ours == pytest.approx(ref, rel=1e-6)
    assert float(trace_sqrt_product(s1, s2)) == pytest.approx(np.trace(ref_sqrt).real, rel=1e-10)


def test_two_gaussians_give_the_analytic_value():
    """Diagonal covariances commute: FID = |mu1 - mu2|^2 + sum (sigma1 - sigma2)^2; the metric
    fed samples with exactly those moments returns it."""
    d = 6
    mu1, mu2 = torch.zeros(d, dtype=torch.float64), torch.arange(d, dtype=torch.float64) / 2
    sd1, sd2 = (
        torch.linspace(0.5, 2, d, dtype=torch.float64),
        torch.linspace(3, 1, d, dtype=torch.float64),
    )
    analytic = float(((mu1 - mu2) ** 2).sum() + ((sd1 - sd2) ** 2).sum())
    m = FrechetDistance(num_features=d)
    m.update(_with_exact_moments(500, mu1, torch.diag(sd1**2), 0), real=True)
    m.update(_with_exact_moments(300, mu2, torch.diag(sd2**2), 1), real=False)
    assert float(m.compute()) == pytest.approx(analytic, rel=1e-9)
    # a scaled copy of a full covariance: Tr sqrt(S a^2 S) = a Tr S
    s = _random_cov(d, 3)
    assert float(frechet_distance(mu1, s, mu1, 4 * s)) == pytest.approx(float(s.trace()), rel=1e-9)


def test_result_does_not_depend_on_batch_size_and_states_add_up_across_processes():
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(300, 10, generator=g), torch.randn(200, 10, generator=g) * 1.3 + 0.2
    values = []
    for bs in (1, 7, 64, 300):
        m = FrechetDistance(num_features=10)
        for s in range(0, 300, bs):
            m.update(real[s : s + bs], real=True)
        for s in range(0, 200, bs):
            m.update(fake[s : s + bs], real=False)
        values.append(float(m.compute()))
    assert max(values) - min(values) < 1e-10 * abs(values[0])
    a, b = FrechetDistance(num_features=10), FrechetDistance(num_features=10)  # two "ranks"
    a.update(real[:120], real=True), a.update(fake[:50], real=False)
    b.update(real[120:], real=True), b.update(fake[50:], real=False)
    a.merge_state(b)  # what the sum reduction does across processes
    assert float(a.compute()) == pytest.approx(values[0], rel=1e-10)


def test_reset_can_keep_the_real_statistics():
    m = FrechetDistance(num_features=3, reset_real=False)
    m.update(torch.randn(50, 3), real=True)
    m.update(torch.randn(50, 3), real=False)
    m.reset()
    assert m.has_real and int(m.fake_n) == 0


def test_extractor_contract_is_checked():
    check_extractor(RandomFeatures(8))
    with pytest.raises(TypeError, match="num_features"):
        FrechetDistance(nn.Linear(3, 3).requires_grad_(False).eval())
    with pytest.raises(ValueError, match="eval mode"):
        FrechetDistance(RandomFeatures(8).train())
    bad = RandomFeatures(8)
    bad.net[0].weight.requires_grad_(True)
    with pytest.raises(ValueError, match="frozen"):
        FrechetDistance(bad)
    m = FrechetDistance(RandomFeatures(8))
    imgs = torch.rand(20, 3, 16, 16) * 2 - 1
    m.update(imgs, real=True), m.update(imgs, real=False)
    assert abs(float(m.compute())) < 1e-6


def test_kid_matches_torchmetrics_formula_and_orders_sets():
    from torchmetrics.image.kid import poly_mmd

    g = torch.Generator().manual_seed(0)
    x, y = (
        torch.randn(64, 8, generator=g, dtype=torch.float64),
        torch.randn(64, 8, generator=g, dtype=torch.float64) + 0.5,
    )
    assert float(polynomial_mmd(x, y)) == pytest.approx(float(poly_mmd(x, y)), rel=1e-9)
    same, shifted = (
        KernelDistance(subsets=20, subset_size=100),
        KernelDistance(subsets=20, subset_size=100),
    )
    a, b = torch.randn(400, 8, generator=g), torch.randn(400, 8, generator=g)
    same.update(a, real=True), same.update(b, real=False)
    shifted.update(a, real=True), shifted.update(b + 1.0, real=False)
    assert abs(float(same.compute()[0])) < 0.05 < float(shifted.compute()[0])


class CountingFeatures(RandomFeatures):
    calls = 0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        CountingFeatures.calls += len(images)
        return super().forward(images)


def _tiny_set(n: int, seed: int) -> FaceDataset:
    rng = np.random.default_rng(seed)
    labels = (
        LabelPrior.training()
        .sample(n, generator=torch.Generator().manual_seed(seed))
        .numpy()
        .astype(np.uint8)
    )
    images = rng.integers(0, 256, (n, 16, 16, 3), dtype=np.uint8)
    return FaceDataset(images, labels, np.ones_like(labels), [{"id": str(i)} for i in range(n)])


def test_protocol_caches_real_statistics_under_dataset_and_weights_hash(tmp_path):
    real = _tiny_set(40, 0)
    def gen(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z[:, :3, None, None].expand(-1, 3, 16, 16) + c[:, :1, None, None])

    ext = CountingFeatures(16)
    ctx = EvalContext(
        gen, 8, LabelPrior.training(), real, extractor=ext, cache=StatsCache(tmp_path)
    )
    protocol = FIDProtocol("t", 32, repeats=2, kid_images=16, kid_subset_size=8)
    first = protocol.run(ctx)
    assert CountingFeatures.calls == 2 * 2 * 32 and len(list(tmp_path.glob("*.npz"))) == 2
    CountingFeatures.calls = 0
    fresh = EvalContext(
        gen, 8, LabelPrior.training(), real, extractor=ext, cache=StatsCache(tmp_path)
    )
    again = protocol.run(fresh)
    assert CountingFeatures.calls == 2 * 32  # only the fakes: the reals came from the cache
    assert again["fid"] == pytest.approx(first["fid"], rel=1e-9) and first["fid_spread"] >= 0
    assert dataset_fingerprint(real) != dataset_fingerprint(_tiny_set(40, 1))
    assert module_fingerprint(ext) != module_fingerprint(CountingFeatures(16, seed=1))
    with pytest.raises(UserError, match="Illustration2Vec"):
        FIDProtocol("t", 8).run(EvalContext(gen, 8, LabelPrior.training(), real))
    with pytest.raises(UserError, match="fid12k8_x5"):
        get_protocol("fid12k8")
