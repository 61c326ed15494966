"""Bounded reads (anime_gan.limits): zip members and files over max_member_bytes are not read
whole, images over max_pixels are refused from their header in every stage that decodes them."""

from __future__ import annotations

import io
import warnings
import zipfile

import pytest
from PIL import Image

from anime_gan.crawl.download import FINAL_IMAGE_CAUSES, ImageRejected, inspect_image
from anime_gan.errors import UserError
from anime_gan.importer.decode import DecodeError, decode_face
from anime_gan.importer.source import ImageSource
from anime_gan.importer.stage import import_images
from anime_gan.limits import DEFAULT_MAX_PIXELS, TooLarge, read_capped


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG")
    return buf.getvalue()


def test_the_default_pixel_cap_is_pillows_warning_size():
    assert DEFAULT_MAX_PIXELS == Image.MAX_IMAGE_PIXELS


def test_an_image_between_pillows_warning_and_error_is_refused_undecoded():
    data = png((10_000, 9_000), "1")  # 90 Mpx: over the warning, under the error (179 Mpx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns on opening; our cap refuses before load()
        with pytest.raises(DecodeError) as info:
            decode_face(data, 16)
    assert info.value.reason == "too_large" and "over max_pixels=89,478,485" in str(info.value)


def test_a_zip_bomb_member_is_skipped_without_being_read(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.png", png((12, 12)))
        zf.writestr("zeros.png", b"\0" * 20_000_000)  # 20 MB of zeros: about 20 kB zipped
    assert archive.stat().st_size < 100_000
    with ImageSource(archive, max_bytes=1_000_000) as src:
        with pytest.raises(TooLarge, match="zeros.png unpacks to 20,000,000 bytes"):
            src.read("zeros.png")
    ds, report = import_images(archive, None, 16, progress=False, max_member_bytes=1_000_000)
    assert len(ds) == 1 and report["skipped"] == {"too_large": 1}


def test_a_stream_longer_than_its_header_says_is_cut_at_the_cap():
    class Endless(io.RawIOBase):
        served = 0

        def readinto(self, b):  # noqa: ANN001
            b[:] = b"\0" * len(b)
            Endless.served += len(b)
            return len(b)

    with pytest.raises(TooLarge):
        read_capped(Endless(), 3_000_000, "member")
    assert Endless.served <= 3_000_001


def test_import_skips_images_over_max_pixels(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "small.png").write_bytes(png((8, 8)))
    (src / "big.png").write_bytes(png((40, 40)))
    ds, report = import_images(src, None, 8, progress=False, max_pixels=100)
    assert len(ds) == 1 and report["skipped_examples"] == {"too_large": ["big.png"]}


def test_detect_crawl_tag_and_upscale_refuse_too_many_pixels(tmp_path):
    from anime_gan.faces.detect import read_rgb
    from anime_gan.superres.images import read_rgb as read_for_upscale
    from anime_gan.tagging.stage import _ImageFiles

    path = tmp_path / "big.png"
    path.write_bytes(png((40, 40)))
    with pytest.raises(TooLarge):  # detect records it as unreadable
        read_rgb(path, max_pixels=100)
    with pytest.raises(ImageRejected) as info:
        inspect_image(path.read_bytes(), "image/png", "u", max_pixels=100)
    assert info.value.cause == "too_large" and info.value.cause in FINAL_IMAGE_CAUSES
    _, pixels, reason = _ImageFiles([("big", path)], 224, max_pixels=100)[0]
    assert pixels is None and "TooLarge" in reason
    huge = tmp_path / "huge.png"
    huge.write_bytes(png((10_000, 9_000), "1"))
    with pytest.raises(UserError, match="huge.png is unreadable .*over max_pixels"):
        read_for_upscale(huge)


def test_the_settings_are_config_keys():
    from anime_gan.cli._hydra import CONF_DIR

    text = {
        name: (CONF_DIR / f"{name}.yaml").read_text()
        for name in ("import", "detect", "tag", "crawl", "serve")
    }
    assert "max_member_bytes:" in text["import"] and "max_pixels:" in text["import"]
    assert "max_pixels:" in text["detect"] and "max_pixels:" in text["tag"]
    assert "deadline_s:" in text["crawl"] and "max_pixels:" in text["crawl"]
    assert "max_body_bytes:" in text["serve"] and "idle_timeout_s:" in text["serve"]
