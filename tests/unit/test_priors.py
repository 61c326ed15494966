import numpy as np
import pytest
import torch

from anime_gan.data.priors import LabelPrior
from anime_gan.data.tags import EXCLUSIVE_GROUPS, INDEPENDENT, NUM_TAGS, tag_index
from anime_gan.errors import UserError

N = 20000


def _check_exclusive(c: torch.Tensor) -> None:
    for idx in EXCLUSIVE_GROUPS.values():
        assert torch.all(c[:, idx].sum(dim=1) == 1)


def test_training_prior_frequencies():
    c = LabelPrior.training().sample(N, generator=torch.Generator().manual_seed(0))
    assert c.shape == (N, NUM_TAGS)
    _check_exclusive(c)
    for idx in EXCLUSIVE_GROUPS.values():
        freq = c[:, idx].mean(0)
        assert torch.allclose(freq, torch.full_like(freq, 1 / len(idx)), atol=0.012)
    assert torch.allclose(
        c[:, INDEPENDENT].mean(0), torch.full((len(INDEPENDENT),), 0.25), atol=0.015
    )


def _toy_dataset(rng: np.random.Generator, n: int = 5000):
    labels = np.zeros((n, NUM_TAGS), np.uint8)
    hair = EXCLUSIVE_GROUPS["hair_color"]
    eyes = EXCLUSIVE_GROUPS["eye_color"]
    labels[np.arange(n), rng.choice(hair, n, p=[0.5] + [0.5 / 12] * 12)] = 1
    labels[np.arange(n), rng.choice(eyes, n)] = 1
    labels[:, tag_index("smile")] = rng.random(n) < 0.6
    known = np.ones_like(labels)
    known[: n // 2, tag_index("hat")] = 0  # hat known on half the rows only, all of them true
    labels[n // 2 :, tag_index("hat")] = 1
    return labels, known


def test_empirical_prior_matches_data_and_ignores_unknown():
    labels, known = _toy_dataset(np.random.default_rng(0))
    prior = LabelPrior.empirical(labels, known)
    assert prior.group_probs["hair_color"][0] == pytest.approx(labels[:, 0].mean())
    assert prior.tag_rates[tag_index("hat")] == 1.0  # only known rows count
    assert prior.counts["tags"]["hat"] == len(labels) // 2
    c = prior.sample(N, generator=torch.Generator().manual_seed(1))
    _check_exclusive(c)
    assert c[:, 0].mean().item() == pytest.approx(prior.group_probs["hair_color"][0], abs=0.015)
    assert c[:, tag_index("smile")].mean().item() == pytest.approx(
        labels[:, tag_index("smile")].mean(), abs=0.015
    )


def test_empirical_prior_falls_back_without_known_labels():
    prior = LabelPrior.empirical(np.zeros((10, NUM_TAGS)), np.zeros((10, NUM_TAGS)))
    assert prior.counts["groups"]["hair_color"] == 0
    np.testing.assert_allclose(prior.group_probs["eye_color"], 0.1)
    assert prior.tag_rates[tag_index("smile")] == 0.25


def test_fixed_tags_override():
    prior = LabelPrior.training()
    c = prior.sample(
        500, fixed=["blue hair", "-smile", "glasses"], generator=torch.Generator().manual_seed(2)
    )
    _check_exclusive(c)
    assert torch.all(c[:, tag_index("blue hair")] == 1)
    assert torch.all(c[:, tag_index("smile")] == 0) and torch.all(c[:, tag_index("glasses")] == 1)
    c = prior.sample(2000, fixed={"red eyes": False}, generator=torch.Generator().manual_seed(3))
    assert torch.all(c[:, tag_index("red eyes")] == 0)
    _check_exclusive(c)


def test_fixing_two_exclusive_tags_is_an_error():
    with pytest.raises(UserError, match="exclusive"):
        LabelPrior.training().sample(4, fixed=["blue hair", "red hair"])


def test_dict_roundtrip():
    labels, known = _toy_dataset(np.random.default_rng(4), 300)
    prior = LabelPrior.empirical(labels, known)
    back = LabelPrior.from_dict(prior.to_dict())
    for g in prior.group_probs:
        np.testing.assert_allclose(back.group_probs[g], prior.group_probs[g])
    np.testing.assert_allclose(back.tag_rates[INDEPENDENT], prior.tag_rates[INDEPENDENT])
