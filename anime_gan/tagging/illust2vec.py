"""Illustration2Vec (Saito and Matsui, 2015; release v2.0.0) in PyTorch.

A VGG-like trunk (every conv k3n*s1 pad 1 + ReLU, 2x2/2 max pools) feeds two released networks,
each with its own conv weights:

- :class:`Illust2VecTagger`: conv6_4 (k3n1539) -> 7x7 average pool -> sigmoid: 1,539 tag
  probabilities (the paper's tagger, section 3.2);
- :class:`Illust2VecFeatures`: conv6_3 + ReLU -> flatten (C, H, W) -> encode1: the 4,096-d feature
  before its sigmoid, which the paper's FID uses in place of Inception (section 5.3.2).

Weights come from the official caffemodels through :mod:`anime_gan.tagging.convert`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from anime_gan.errors import UserError
from anime_gan.tagging.preprocess import INPUT_SIZE, Images, preprocess

#: The trunk: (layer, output channels, followed by a 2x2 stride-2 max pool).
TRUNK: tuple[tuple[str, int, bool], ...] = (
    ("conv1_1", 64, True),
    ("conv2_1", 128, True),
    ("conv3_1", 256, False),
    ("conv3_2", 256, True),
    ("conv4_1", 512, False),
    ("conv4_2", 512, True),
    ("conv5_1", 512, False),
    ("conv5_2", 512, True),
    ("conv6_1", 1024, False),
    ("conv6_2", 1024, False),
    ("conv6_3", 1024, False),
)
NUM_I2V_TAGS = 1539
KINDS = ("tag", "feature")
#: Layers a converted file keeps that the network here does not use (feature model: encode1 ->
#: sigmoid -> encode2, Illustration2Vec's own tag head on the feature net).
UNUSED_LAYERS = {"feature": ("encode2",), "tag": ()}
FORMAT = "anime-gan-illust2vec"

RELEASE_URL = "https://github.com/rezoo/illustration2vec/releases/download/v2.0.0/"
CAFFEMODEL = {"tag": "illust2vec_tag_ver200.caffemodel", "feature": "illust2vec_ver200.caffemodel"}

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Illust2VecArch:
    """Sizes of an Illustration2Vec network: the release is ``width=1, input_size=224``.

    ``width`` divides every channel count and the feature size, and ``input_size`` may be any
    multiple of 32: both exist so that tests can build small networks of the same shape.
    """

    width: int = 1
    input_size: int = INPUT_SIZE

    def __post_init__(self) -> None:
        if self.width < 1 or 64 % self.width or self.input_size < 32 or self.input_size % 32:
            raise UserError(
                f"width={self.width}, input_size={self.input_size}: the width must divide 64 and "
                f"the input size be a multiple of 32 (keep arch.width=1 arch.input_size=224 for "
                f"the released weights)."
            )

    @property
    def num_features(self) -> int:
        return 4096 // self.width  # the release's encode1 size

    @property
    def flat_size(self) -> int:
        """Length of conv6_3's flattened output: 1024 x 7 x 7 = 50,176 for the release."""
        return 1024 // self.width * (self.input_size // 32) ** 2

    def shapes(self, kind: str) -> dict[str, tuple[Shape, Shape]]:
        """Layer -> (weight shape, bias shape) of a released caffemodel, in network order."""
        out: dict[str, tuple[Shape, Shape]] = {}
        cin = 3
        for name, cout, _ in TRUNK:
            out[name] = ((cout // self.width, cin, 3, 3), (cout // self.width,))
            cin = cout // self.width
        if kind == "tag":
            out["conv6_4"] = ((NUM_I2V_TAGS, cin, 3, 3), (NUM_I2V_TAGS,))
        else:
            out["encode1"] = ((self.num_features, self.flat_size), (self.num_features,))
            out["encode2"] = ((NUM_I2V_TAGS, self.num_features), (NUM_I2V_TAGS,))
        return out


#: The released networks' sizes.
RELEASE = Illust2VecArch()


class _Illust2VecNet(nn.Module):
    """The trunk and head of :meth:`Illust2VecArch.shapes`; frozen and in eval mode for good
    (these networks are never trained here)."""

    kind = ""

    def __init__(self, arch: Illust2VecArch = RELEASE) -> None:
        super().__init__()
        self.arch = arch
        for name, (weight, _) in arch.shapes(self.kind).items():
            if name not in UNUSED_LAYERS[self.kind]:
                cout, cin = weight[:2]
                conv = len(weight) == 4
                self.add_module(
                    name, nn.Conv2d(cin, cout, 3, padding=1) if conv else nn.Linear(cin, cout)
                )
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> _Illust2VecNet:
        """Stays in eval mode (a Lightning module's ``.train()`` must not change a metric's net)."""
        return super().train(False)

    @property
    def device(self) -> torch.device:
        return self.conv1_1.weight.device

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """Preprocessed input -> conv6_3 + ReLU ([N, 1024, 7, 7] for the release)."""
        for name, _, pool in TRUNK:
            x = F.relu(getattr(self, name)(x))
            if pool:  # Caffe pools round up; every size here is even, so ceil_mode changes nothing
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        return x

    def forward(self, images: Images) -> torch.Tensor:
        """Raw images (see :func:`preprocess`) -> this network's output."""
        return self.forward_preprocessed(preprocess(images, self.arch.input_size, self.device))


class Illust2VecTagger(_Illust2VecNet):
    """The tag network: images -> [N, 1539] probabilities, in ``assets/tag_list.json`` order."""

    kind = "tag"

    def forward_preprocessed(self, x: torch.Tensor) -> torch.Tensor:
        """Preprocessed [N, 3, 224, 224] -> [N, 1539] probabilities."""
        logits = self.conv6_4(self.trunk(x))  # no ReLU after conv6_4
        return torch.sigmoid(logits.mean(dim=(2, 3)))  # the 7x7 average pool covers the whole map


class Illust2VecFeatures(_Illust2VecNet):
    """The feature network as a torchmetrics-style feature extractor for FID.

    ``forward(images) -> [N, num_features]`` float32: the ``encode1`` output before its sigmoid.
    Frozen and always in eval mode; ``num_features`` is 4,096 for the release.
    """

    kind = "feature"

    @property
    def num_features(self) -> int:
        return self.arch.num_features

    def forward_preprocessed(self, x: torch.Tensor) -> torch.Tensor:
        """Preprocessed [N, 3, 224, 224] -> [N, 4096] features."""
        return self.encode1(self.trunk(x).flatten(1))  # Caffe's (C, H, W) row-major order


Net = TypeVar("Net", Illust2VecTagger, Illust2VecFeatures)


def load_illust2vec(cls: type[Net], path: str | Path, device: torch.device | str = "cpu") -> Net:
    """A network of class ``cls`` with the weights of a converted safetensors file, strictly."""
    from safetensors import safe_open

    path = Path(path)
    if path.suffix == ".caffemodel" and path.is_file():
        raise UserError(
            f"{path} is the Caffe file: convert it first with "
            f"`anime-gan convert-i2v src={path}` and pass the .safetensors file."
        )
    if not path.is_file():
        src = path.with_suffix(".caffemodel")
        other, what = ("feature", "FID feature") if cls.kind == "tag" else ("tag", "tag")
        raise UserError(
            f"no Illustration2Vec {cls.kind} weights at {path}: download "
            f"{RELEASE_URL}{CAFFEMODEL[cls.kind]} to {src} and run `anime-gan convert-i2v "
            f"src={src}` (the {what} model, {RELEASE_URL}{CAFFEMODEL[other]}, converts the same "
            f"way)."
        )
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            meta = f.metadata() or {}
            state = {
                k: f.get_tensor(k)
                for k in f.keys()
                if k.split(".")[0] not in UNUSED_LAYERS[cls.kind]
            }
    except Exception as e:  # safetensors raises its own error types for a bad file
        raise UserError(
            f"{path} is not a readable safetensors file ({e}): convert the "
            f".caffemodel again with `anime-gan convert-i2v`."
        ) from None
    if (meta.get("format"), meta.get("kind")) != (FORMAT, cls.kind):
        what = (
            f"holds the Illustration2Vec {meta.get('kind')} model where the {cls.kind} model "
            f"is needed"
            if meta.get("format") == FORMAT
            else "is not a converted Illustration2Vec file"
        )
        raise UserError(
            f"{path} {what}: pass the file that `anime-gan convert-i2v` makes from "
            f"{CAFFEMODEL[cls.kind]}."
        )
    arch = Illust2VecArch(int(meta["width"]), int(meta["input_size"]))  # convert writes both
    with torch.device("meta"):
        net = cls(arch)
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        bad = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
        detail = ", ".join(f"{k} needs {expected.get(k)} found {found.get(k)}" for k in bad[:3])
        raise UserError(
            f"{path} does not match the Illustration2Vec {cls.kind} network "
            f"({detail}): convert the .caffemodel again with `anime-gan convert-i2v`."
        )
    net.load_state_dict(state, strict=True, assign=True)  # keeps requires_grad=False
    return net


def load_tagger(path: str | Path, device: torch.device | str = "cpu") -> Illust2VecTagger:
    """The tag network from ``illust2vec_tag_ver200.safetensors`` (see :mod:`.convert`)."""
    return load_illust2vec(Illust2VecTagger, path, device)


def load_features(path: str | Path, device: torch.device | str = "cpu") -> Illust2VecFeatures:
    """The FID feature extractor from ``illust2vec_ver200.safetensors`` (see :mod:`.convert`)."""
    return load_illust2vec(Illust2VecFeatures, path, device)
