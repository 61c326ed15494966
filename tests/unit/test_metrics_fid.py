"""FID and KID (torchmetrics on our feature extractors): the numbers of the project's former
implementation to 1e-6, batch-size independence, process reduction, the statistics cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from anime_gan.cli._hydra import CONF_DIR
from anime_gan.data.dataset import FaceDataset
from anime_gan.data.priors import LabelPrior
from anime_gan.errors import UserError
from anime_gan.metrics.context import EvalContext
from anime_gan.metrics.evaluate import check_inputs
from anime_gan.metrics.features import (
    MetricFeatures,
    StatsCache,
    dataset_fingerprint,
    module_fingerprint,
)
from anime_gan.metrics.protocols import FIDProtocol, get_protocol
from tests.fakes.features import RandomFeatures


# -- the former implementation (metrics/fid.py, metrics/kid.py), kept as the reference ------------
def reference_fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Fréchet distance of the features' Gaussians, Tr sqrt(S1 S2) by the symmetric eigh form."""
    (mu1, s1), (mu2, s2) = ((x.mean(0), torch.cov(x.T)) for x in (real.double(), fake.double()))
    vals, vecs = torch.linalg.eigh(s1)
    root = (vecs * vals.clamp(min=0).sqrt()) @ vecs.T
    inner = root @ s2 @ root
    tr = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0).sqrt().sum()
    return float((mu1 - mu2).dot(mu1 - mu2) + s1.trace() + s2.trace() - 2 * tr)


def reference_kid(
    real: torch.Tensor, fake: torch.Tensor, subsets: int, size: int, seed: int
) -> float:
    """Unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, averaged over seeded random subsets."""
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(subsets):
        x = real.double()[torch.randperm(len(real), generator=gen)[:size]]
        y = fake.double()[torch.randperm(len(fake), generator=gen)[:size]]
        kxx, kyy, kxy = ((a @ b.T / x.shape[1] + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
        m = len(x)
        off = (kxx.sum() - kxx.diagonal().sum() + kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
        values.append(off - 2 * kxy.mean())
    return float(torch.stack(values).mean())


class Identity(nn.Module):
    """Features in, the same features out: the metrics fed feature vectors directly."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _features(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g) * torch.linspace(0.5, 2.0, d) + shift


def _fid(d: int) -> FrechetInceptionDistance:
    return FrechetInceptionDistance(feature=MetricFeatures(Identity(d).eval()))


@pytest.mark.parametrize("d", [4, 16, 48])
def test_fid_equals_the_former_implementation(d):
    real, fake = _features(500, d, 0), _features(300, d, 1, shift=0.3) * 1.2
    fid = _fid(d)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    assert float(fid.compute()) == pytest.approx(reference_fid(real, fake), rel=1e-6)
    same = _fid(d)
    same.update(real, real=True), same.update(real, real=False)
    assert abs(float(same.compute())) < 1e-6 * float(real.var(0).sum())


def test_kid_equals_the_former_implementation_with_the_same_seed():
    real, fake = _features(300, 8, 0), _features(260, 8, 1, shift=0.5)
    with pytest.warns(UserWarning, match="Kernel Inception Distance"):
        kid = KernelInceptionDistance(
            feature=MetricFeatures(Identity(8).eval()), subsets=20, subset_size=100
        )
    kid.update(real, real=True), kid.update(fake, real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        ours = float(kid.compute()[0])
    assert ours == pytest.approx(reference_kid(real, fake, 20, 100, seed=7), rel=1e-6)


def test_result_does_not_depend_on_batch_size_and_states_add_up_across_processes():
    real, fake = _features(300, 10, 0), _features(200, 10, 1, shift=0.2) * 1.3
    values = []
    for bs in (1, 7, 64, 300):
        m = _fid(10)
        for s in range(0, 300, bs):
            m.update(real[s : s + bs], real=True)
        for s in range(0, 200, bs):
            m.update(fake[s : s + bs], real=False)
        values.append(float(m.compute()))
    assert max(values) - min(values) < 1e-10 * abs(values[0])
    a, b = _fid(10), _fid(10)  # two "ranks"
    a.update(real[:120], real=True), a.update(fake[:50], real=False)
    b.update(real[120:], real=True), b.update(fake[50:], real=False)
    a.merge_state(b)  # what the sum reduction does across processes
    assert float(a.compute()) == pytest.approx(values[0], rel=1e-10)


def test_extractor_contract_is_checked():
    with pytest.raises(TypeError, match="num_features"):
        MetricFeatures(nn.Linear(3, 3).requires_grad_(False).eval())
    with pytest.raises(ValueError, match="eval mode"):
        MetricFeatures(RandomFeatures(8).train())
    bad = RandomFeatures(8)
    bad.net[0].weight.requires_grad_(True)
    with pytest.raises(ValueError, match="frozen"):
        MetricFeatures(bad)
    m = FrechetInceptionDistance(feature=MetricFeatures(RandomFeatures(8)))
    imgs = torch.rand(20, 3, 16, 16) * 2 - 1
    m.update(imgs, real=True), m.update(imgs, real=False)
    assert abs(float(m.compute())) < 1e-6


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
    with pytest.raises(UserError, match="fid12k8_x5"):
        get_protocol("fid12k8")


def test_evaluate_refuses_fid_without_features_and_precision_without_judge():
    cfg = OmegaConf.load(CONF_DIR / "evaluate.yaml")  # no i2v_features, no judge_features
    with pytest.raises(UserError, match="fid256 needs features: set i2v_features="):
        check_inputs(cfg, [get_protocol("swd256"), get_protocol("fid256")])
    with pytest.raises(UserError, match="precision8 needs a judge: judge="):
        check_inputs(cfg, [get_protocol("precision8")])


def test_protocol_equals_the_former_implementation_on_the_same_features():
    real = _tiny_set(48, 2)

    def gen(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z[:, :3, None, None].expand(-1, 3, 16, 16) + c[:, :1, None, None])

    ext = RandomFeatures(6)
    ctx = EvalContext(gen, 8, LabelPrior.training(), real, batch_size=20, extractor=ext)
    values = FIDProtocol("t", 40, kid_images=40, kid_subset_size=30).run(ctx)
    index = ctx.choose_real(40, ctx.seed)
    feats_real = torch.cat([ext(x) for x in ctx.real_batches(index)])
    fakes = ctx.fake_batches(index, ctx.seed)
    feats_fake = torch.cat([ext(x) for x in fakes])
    assert values["fid"] == pytest.approx(reference_fid(feats_real, feats_fake), rel=1e-6)
    kid = reference_kid(feats_real, feats_fake, 100, 30, seed=ctx.seed)
    assert values["kid"] == pytest.approx(kid, rel=1e-6)
