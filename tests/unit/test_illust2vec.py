"""Illustration2Vec: the caffemodel reader, the converter, the networks and the preprocessing.

Caffemodels are fabricated with random weights at reduced width (channels / 32) but the real
224 px input, so the 7x7 maps, the average pool and encode1's flatten order are the release's.
The PyTorch outputs are checked against a direct NumPy computation with the same weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from anime_gan.errors import UserError
from anime_gan.tagging.caffe import CaffeFormatError, parse_net, read_caffemodel
from anime_gan.tagging.convert import convert_caffemodel
from anime_gan.tagging.illust2vec import (
    TRUNK,
    Illust2VecArch,
    Illust2VecFeatures,
    Illust2VecTagger,
    load_features,
    load_tagger,
)
from anime_gan.tagging.preprocess import I2V_MEAN_BGR, preprocess
from tests.fakes import caffe_writer as cw

ARCH = Illust2VecArch(width=32, input_size=224)
LAYOUTS = [("new", False), ("v1", True)]  # (layout, legacy num/channels/height/width shapes)


# -- a direct NumPy Illustration2Vec, float64 ------------------------------------------------------


def np_conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    windows = sliding_window_view(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3))
    return np.einsum("nchwij,ocij->nohw", windows, w, optimize=True) + b[None, :, None, None]


def np_trunk(x: np.ndarray, wt: dict[str, np.ndarray]) -> np.ndarray:
    for name, _, pool in TRUNK:
        x = np.maximum(np_conv3x3(x, wt[f"{name}.weight"], wt[f"{name}.bias"]), 0)
        if pool:
            n, c, h, w = x.shape
            x = x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
    return x


def np_input(images: np.ndarray) -> np.ndarray:
    """uint8 NHWC RGB at 224 px -> BGR, mean subtracted, NCHW (no resize needed)."""
    return (images.astype(np.float64)[..., ::-1] - np.array(I2V_MEAN_BGR)).transpose(0, 3, 1, 2)


def np_tag_probs(images: np.ndarray, wt: dict[str, np.ndarray]) -> np.ndarray:
    h = np_conv3x3(np_trunk(np_input(images), wt), wt["conv6_4.weight"], wt["conv6_4.bias"])
    return 1 / (1 + np.exp(-h.mean(axis=(2, 3))))  # 7x7 average pool, sigmoid


def np_features(images: np.ndarray, wt: dict[str, np.ndarray], order: str = "chw") -> np.ndarray:
    h = np_trunk(np_input(images), wt)
    flat = (h if order == "chw" else h.transpose(0, 2, 3, 1)).reshape(len(h), -1)
    return flat @ wt["encode1.weight"].T.astype(np.float64) + wt["encode1.bias"]


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (2, 224, 224, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Per (kind, layout): the fabricated weights and the converted safetensors file."""
    root, out = tmp_path_factory.mktemp("i2v"), {}
    for kind in ("tag", "feature"):
        for layout, legacy in LAYOUTS:
            src = root / f"{kind}_{layout}.caffemodel"
            weights = cw.fabricate_illust2vec(
                src, kind, ARCH, seed=len(out), layout=layout, legacy_shape=legacy
            )
            out[kind, layout] = (weights, convert_caffemodel(src, kind="auto", arch=ARCH))
    return out


# -- the reader ------------------------------------------------------------------------------------


@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize("legacy", [False, True])
def test_blob_encodings_read_back(packed: bool, legacy: bool) -> None:
    w = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) - 7.5
    b = np.array([0.25, -3.0], dtype=np.float32)
    for layout in ("new", "v1"):
        data = cw.length_field(1, b"net") + cw.layer_bytes(
            "conv1_1", "Convolution", [w, b], layout, legacy, packed
        )
        data += cw.layer_bytes("relu1_1", "ReLU", [], layout)
        layers = parse_net(data)
        assert [(layer.name, layer.type) for layer in layers] == [
            ("conv1_1", "Convolution"),
            ("relu1_1", "ReLU"),
        ]
        np.testing.assert_array_equal(layers[0].blobs[0], w)
        np.testing.assert_array_equal(layers[0].blobs[1].reshape(-1), b)
        assert layers[0].blobs[1].shape == ((1, 1, 1, 2) if legacy else (2,))
        assert layers[1].blobs == ()


def test_double_data_blob_is_read_as_float32() -> None:
    values = np.array([1.5, -2.0, 3.25])
    shape = cw.length_field(7, cw.length_field(1, cw.varint(3)))
    blob = shape + cw.length_field(8, values.tobytes())  # packed doubles
    layer = cw.length_field(1, b"fc") + cw.length_field(2, b"InnerProduct")
    layer += cw.length_field(7, blob)
    (fc,) = parse_net(cw.length_field(100, layer))
    assert fc.blobs[0].dtype == np.float32 and fc.blobs[0].tolist() == [1.5, -2.0, 3.25]


def test_truncated_file_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "tag.caffemodel"
    weights = cw.fabricate_illust2vec(src, "tag", ARCH)
    data = src.read_bytes()
    src.write_bytes(data[: len(data) // 2])  # inside a blob
    with pytest.raises(CaffeFormatError, match="truncated, so download it again"):
        read_caffemodel(src)
    first_two = [
        (n, "Convolution", [weights[f"{n}.weight"], weights[f"{n}.bias"]])
        for n in ("conv1_1", "conv2_1")
    ]
    cw.write_caffemodel(src, first_two)  # cut exactly between two layers: parses, but incomplete
    with pytest.raises(UserError, match=r"neither conv6_4 .*\(conv1_1, conv2_1\): it is truncated"):
        convert_caffemodel(src, arch=ARCH)
    with pytest.raises(UserError, match=r"lacks the layers conv3_1, .* truncated") as err:
        convert_caffemodel(src, kind="tag", arch=ARCH)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "is a PNG image"),
        (np.random.default_rng(0).bytes(4096), "truncated|not a readable Caffe model"),
        (b'name: "illust2vec_tag"\nlayer {\n  name: "conv1_1"\n}\n', "is a text file"),
        (b"", "is empty"),
    ],
)
def test_foreign_file_is_a_clear_error(tmp_path: Path, content: bytes, message: str) -> None:
    src = tmp_path / "x.caffemodel"
    src.write_bytes(content)
    with pytest.raises(CaffeFormatError, match=message):
        convert_caffemodel(src, arch=ARCH)


# -- the converter ---------------------------------------------------------------------------------


def test_shape_mismatch_names_the_layer(tmp_path: Path) -> None:
    weights = cw.fabricate_weights("tag", ARCH)
    weights["conv3_2.weight"] = np.zeros((9, 8, 3, 3), np.float32)
    layers = [
        (n, "Convolution", [weights[f"{n}.weight"], weights[f"{n}.bias"]])
        for n in ARCH.shapes("tag")
    ]
    src = cw.write_caffemodel(tmp_path / "bad.caffemodel", layers, layout="v1")
    with pytest.raises(
        UserError,
        match=r"layer conv3_2 .* weight shape \(9, 8, 3, 3\) where the "
        r"Illustration2Vec tag model needs \(8, 8, 3, 3\)",
    ):
        convert_caffemodel(src, arch=ARCH)
    assert not list(tmp_path.glob("*.safetensors")) and not list(tmp_path.glob(".*tmp"))


def test_kind_is_detected_and_checked(tmp_path: Path, converted: dict) -> None:
    assert {k: c.kind for k, (_, c) in converted.items()} == {k: k[0] for k in converted}
    src = tmp_path / "tag.caffemodel"
    cw.fabricate_illust2vec(src, "tag", ARCH)
    with pytest.raises(UserError, match="lacks the layers encode1, encode2"):
        convert_caffemodel(src, kind="feature", arch=ARCH)
    with pytest.raises(UserError, match="kind must be auto, tag or feature"):
        convert_caffemodel(src, kind="tags", arch=ARCH)
    with pytest.raises(UserError, match=r"conv1_1 .* needs \(64, 3, 3, 3\)"):
        convert_caffemodel(src)  # a reduced file is not the release


# -- the networks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["new", "v1"])
def test_tagger_matches_numpy(converted: dict, images: np.ndarray, layout: str) -> None:
    weights, conversion = converted["tag", layout]
    net = load_tagger(conversion.out)
    probs = net(images)
    expected = np_tag_probs(images, weights)
    assert probs.shape == (2, 1539) and probs.dtype == torch.float32
    np.testing.assert_allclose(probs.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert 0.05 < expected.std() and 0.01 < expected.min() and expected.max() < 0.99  # unsaturated


@pytest.mark.parametrize("layout", ["new", "v1"])
def test_features_match_numpy_in_caffe_flatten_order(
    converted: dict, images: np.ndarray, layout: str
) -> None:
    weights, conversion = converted["feature", layout]
    feats = load_features(conversion.out)(images).numpy()
    expected = np_features(images, weights)
    assert feats.shape == (2, ARCH.num_features)
    np.testing.assert_allclose(feats, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    assert not np.allclose(feats, np_features(images, weights, order="hwc"), atol=1e-2)


def test_feature_extractor_contract(tmp_path: Path) -> None:
    small = Illust2VecArch(width=32, input_size=64)
    cw.fabricate_illust2vec(tmp_path / "f.caffemodel", "feature", small)
    net = load_features(convert_caffemodel(tmp_path / "f.caffemodel", arch=small).out)
    net.train()
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    assert net.num_features == small.num_features == 128
    images = np.random.default_rng(2).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    from_numpy = net(images)
    as_uint8_nchw = torch.from_numpy(images).permute(0, 3, 1, 2)
    torch.testing.assert_close(net(as_uint8_nchw), from_numpy)
    as_model_range = as_uint8_nchw.float() / 127.5 - 1.0  # the generator's range
    torch.testing.assert_close(net(as_model_range), from_numpy, rtol=1e-4, atol=1e-4)
    alone = net(images[1:])  # batch-size independent
    torch.testing.assert_close(alone, from_numpy[1:], rtol=1e-5, atol=1e-5)


def test_works_as_the_feature_of_torchmetrics_fid() -> None:
    fid_module = pytest.importorskip("torchmetrics.image.fid")
    small = Illust2VecArch(width=32, input_size=64)
    net = Illust2VecFeatures(small)
    weights = cw.fabricate_weights("feature", small)
    net.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items() if "encode2" not in k})
    fid = fid_module.FrechetInceptionDistance(feature=net)
    real = torch.randint(0, 256, (12, 3, 64, 64), dtype=torch.uint8)
    fid.update(real, real=True)
    fid.update(real, real=False)
    assert abs(fid.compute().item()) < 1e-3
    fid.reset()
    fid.update(real, real=True)
    fid.update(torch.rand(12, 3, 64, 64) * 2 - 1, real=False)  # generator-range floats
    assert fid.compute().item() > 1e-3


def test_release_architecture_shapes_on_meta() -> None:
    with torch.device("meta"):
        tagger, features = Illust2VecTagger(), Illust2VecFeatures()
        x = torch.empty(2, 3, 224, 224)
        assert tagger.forward_preprocessed(x).shape == (2, 1539)
        assert features.forward_preprocessed(x).shape == (2, 4096) and features.num_features == 4096
    release = Illust2VecArch()
    for net in (tagger, features):
        shapes = {
            k.split(".")[0]: tuple(v.shape)
            for k, v in net.state_dict().items()
            if k.endswith("weight")
        }
        expected = {k: w for k, (w, _) in release.shapes(net.kind).items() if k != "encode2"}
        assert shapes == expected
    assert release.shapes("feature")["encode1"][0] == (4096, 50176)
    # ~188 MB and ~980 MB of float32, as the two released caffemodels
    assert sum(p.numel() for p in tagger.parameters()) * 4 / 1e6 == pytest.approx(188, rel=0.01)
    n_feature = sum(int(np.prod(w)) + b[0] for w, b in release.shapes("feature").values())
    assert n_feature * 4 / 1e6 == pytest.approx(980, rel=0.01)


def test_loader_errors(tmp_path: Path, converted: dict) -> None:
    missing = tmp_path / "illust2vec_tag_ver200.safetensors"
    with pytest.raises(UserError) as err:
        load_tagger(missing)
    text = str(err.value)
    assert "releases/download/v2.0.0/illust2vec_tag_ver200.caffemodel" in text
    assert "releases/download/v2.0.0/illust2vec_ver200.caffemodel" in text
    assert f"anime-gan convert-i2v src={missing.with_suffix('.caffemodel')}" in text
    with pytest.raises(UserError, match="holds the Illustration2Vec tag model where the feature"):
        load_features(converted["tag", "new"][1].out)
    not_safetensors = tmp_path / "x.safetensors"
    not_safetensors.write_bytes(b"\x00" * 64)
    with pytest.raises(UserError, match="not a readable safetensors file"):
        load_tagger(not_safetensors)
    caffemodel = tmp_path / "t.caffemodel"
    caffemodel.write_bytes(b"\x00")
    with pytest.raises(UserError, match="convert it first"):
        load_tagger(caffemodel)


# -- preprocessing ---------------------------------------------------------------------------------


def test_preprocess_numbers_bgr_mean_no_scaling() -> None:
    image = np.array([[[10, 20, 30], [255, 0, 7]], [[0, 0, 0], [1, 2, 3]]], dtype=np.uint8)
    x = preprocess(image, size=2)
    assert x.shape == (1, 3, 2, 2) and x.dtype == torch.float32
    b, g, r = I2V_MEAN_BGR
    assert x[0, :, 0, 0].tolist() == pytest.approx([30 - b, 20 - g, 10 - r])  # BGR order
    assert x[0, :, 0, 1].tolist() == pytest.approx([7 - b, 0 - g, 255 - r])  # 0-255, no /255
    rgba = np.concatenate([image, np.full((2, 2, 1), 99, np.uint8)], axis=2)
    torch.testing.assert_close(preprocess(rgba, size=2), x)  # alpha dropped
    grey = preprocess(np.array([[50, 60], [70, 80]], np.uint8), size=2)
    assert grey[0, :, 1, 0].tolist() == pytest.approx([70 - b, 70 - g, 70 - r])
    minus_one = preprocess(torch.full((1, 3, 2, 2), -1.0), size=2)  # generator output -1 -> 0
    assert minus_one[0, :, 0, 0].tolist() == pytest.approx([-b, -g, -r])


def test_preprocess_resizes_bilinear_per_image() -> None:
    ramp = np.zeros((2, 2, 3), np.uint8)
    ramp[:, 1] = 100
    x = preprocess(ramp, size=4)[0, 0] + I2V_MEAN_BGR[0]
    assert x[0].tolist() == pytest.approx([0, 25, 75, 100])  # pixel centres aligned, no antialias
    batch = preprocess([np.zeros((300, 200, 3), np.uint8), np.full((50, 80), 9, np.uint8)])
    assert batch.shape == (2, 3, 224, 224)
    assert batch[1].add(torch.tensor(I2V_MEAN_BGR).view(3, 1, 1)).allclose(torch.tensor(9.0))
    with pytest.raises(TypeError, match="uint8"):
        preprocess(np.zeros((4, 4, 3), np.float32))
