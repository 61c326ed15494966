"""`anime-gan import`: folders and zips of images (+ tags CSV) -> a dataset, robust to bad input."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anime_gan.data.dataset import load_dataset
from anime_gan.data.tags import NUM_TAGS, TAG_INDEX, to_multi_hot
from anime_gan.errors import UserError
from anime_gan.importer import stage as importer
from anime_gan.importer.stage import import_images
from anime_gan.reports.imports import format_report

REPO = Path(__file__).resolve().parents[2]
RED, WHITE = (255, 0, 0), (255, 255, 255)


def encode(image: Image.Image, fmt: str = "PNG", **kw: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def solid(color: tuple[int, ...], size: tuple[int, int] = (16, 16), mode: str = "RGB") -> bytes:
    return encode(Image.new(mode, size, color))


def write(folder: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return folder


def run(source: Path, out: Path | None = None, resolution: int = 16, **kw: object):
    kw.setdefault("progress", False)
    return import_images(source, out, resolution, **kw)


def pixel(ds, image_id: str, y: int = 8, x: int = 8) -> tuple[int, ...]:
    return tuple(int(v) for v in ds.images[ds.ids.index(image_id)][y, x])


def test_modes_are_converted_to_rgb_with_transparency_on_white(tmp_path: Path) -> None:
    half = np.zeros((16, 16), np.uint8)
    half[:, 8:] = 1
    palette = Image.fromarray(half, "P")
    palette.putpalette([0, 0, 0, *RED] + [0] * 762)
    src = write(
        tmp_path / "src",
        {
            "grey.png": solid(100, mode="L"),
            "palette.png": encode(palette, transparency=0),
            "palette.gif": encode(palette, "GIF", transparency=0),
            "rgba.png": solid((255, 0, 0, 128), mode="RGBA"),
            "clear.webp": encode(Image.new("RGBA", (16, 16), (0, 0, 0, 0)), "WEBP", lossless=True),
            "la.png": solid((0, 0), mode="LA"),
            "cmyk.jpg": encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95),
            "deep.png": encode(Image.fromarray(np.full((16, 16), 32896, np.uint16))),  # I;16
            "plain.bmp": solid((1, 2, 3)),
        },
    )
    ds, report = run(src)
    assert len(ds) == 9 and ds.images.shape == (9, 16, 16, 3)
    assert pixel(ds, "grey") == (100, 100, 100)
    for palette_id in ("palette.gif", "palette.png"):  # same stem: the ids keep the extension
        assert pixel(ds, palette_id, x=0) == WHITE and pixel(ds, palette_id, x=15) == RED
    assert pixel(ds, "rgba") == (255, 127, 127)  # half-transparent red over white
    assert pixel(ds, "clear") == WHITE and pixel(ds, "la") == WHITE
    assert np.abs(np.subtract(pixel(ds, "cmyk"), RED)).max() <= 3
    assert pixel(ds, "deep") == (128, 128, 128)  # 32896 / 257, not clipped to 255
    assert pixel(ds, "plain") == (1, 2, 3)
    assert report["converted"] == {
        "CMYK": 1,
        "I;16": 1,
        "L": 1,
        "LA": 1,
        "P+transparency": 2,
        "RGBA": 2,
    }
    assert report["skipped"] == {} and report["imported"] == 9
    assert (ds.known == 0).all() and report["tags_csv"] is None


def test_unusable_files_are_skipped_counted_and_named(tmp_path: Path) -> None:
    jpeg = encode(Image.new("RGB", (32, 32), (0, 128, 0)), "JPEG")
    png = solid((9, 9, 9))
    broken = bytearray(png)
    at = png.index(b"IDAT")
    broken[at + 6 : at + 12] = b"\xff" * 6
    src = write(
        tmp_path / "src",
        {
            "good.jpg": jpeg,
            "sub/good2.png": png,
            "empty.jpg": b"",
            "text.png": "not an image",
            "half.jpg": jpeg[: len(jpeg) // 2],
            "broken.png": bytes(broken),
            "notes.txt": "hello",
            ".hidden/x.png": png,
        },
    )
    ds, report = run(src)
    assert ds.ids == ["good", "sub/good2"]
    assert report["skipped"] == {"empty": 1, "not_an_image": 1, "truncated": 1, "corrupt": 1}
    assert report["skipped_examples"] == {
        "empty": ["empty.jpg"],
        "not_an_image": ["text.png"],
        "truncated": ["half.jpg"],
        "corrupt": ["broken.png"],
    }
    assert report["files"] == {"images": 6, "other": 1, "ignored": 1}
    text = format_report(report)
    assert "imported 2 of 6" in text and "skipped 1 truncated: half.jpg" in text


def test_non_square_is_center_cropped_or_padded_and_sizes_recorded(tmp_path: Path) -> None:
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[:, :10], wide[:, 10:20], wide[:, 20:] = RED, (0, 255, 0), (0, 0, 255)
    src = write(
        tmp_path / "src",
        {
            "wide.png": encode(Image.fromarray(wide)),
            "tiny.png": solid((5, 5, 5), (8, 8)),
            "big.png": solid((7, 7, 7), (64, 64)),
        },
    )
    ds, report = run(src, resolution=10)
    assert {pixel(ds, "wide", y, x) for y in range(10) for x in range(10)} == {(0, 255, 0)}
    meta = {m["id"]: m for m in ds.metadata}
    assert (meta["wide"]["width"], meta["wide"]["height"]) == (30, 10)
    assert report["cropped"] == 1 and report["upscaled"] == 1
    assert any("not a power of two" in w for w in report["warnings"])
    padded, report = run(src, resolution=30, crop="pad")
    assert pixel(padded, "wide", 0, 15) == WHITE and pixel(padded, "wide", 15, 15) == (0, 255, 0)
    assert pixel(padded, "wide", 15, 2) == RED and report["padded"] == 1


def test_tags_csv_labels_unknown_tags_and_unmatched_rows(tmp_path: Path) -> None:
    csv = (
        "file,tags\n"
        "a/1.png,blonde hair;blue eyes;bicolored eyes\n"
        '2.png,"Blonde_Hair, long hair"\n'  # matched by base name, ',' separated
        "b/3.png,red hair;blue hair;short hair;long hair;Grey Eyes\n"
        "missing.png,red hair\n"
    )
    images = {name: solid(RED) for name in ("a/1.png", "a/2.png", "b/3.png", "4.png")}
    src = write(tmp_path / "src", {**images, "tags.csv": csv})
    ds, report = run(src)
    assert ds.ids == ["4", "a/1", "a/2", "b/3"]
    assert "used automatically" in report["tags_csv"]
    labels = dict(zip(ds.ids, ds.labels, strict=True))
    known = dict(zip(ds.ids, ds.known, strict=True))
    assert (labels["a/1"] == to_multi_hot(["blonde hair", "blue eyes"])).all()
    assert known["a/1"][TAG_INDEX["blonde hair"]] and known["a/1"][TAG_INDEX["green eyes"]]
    assert not known["a/1"][TAG_INDEX["long hair"]]  # absent and not exclusive: unknown
    assert (labels["a/2"] == to_multi_hot(["blonde hair", "long hair"])).all()
    assert known["a/2"][TAG_INDEX["short hair"]] and not known["a/2"][TAG_INDEX["blue eyes"]]
    assert labels["b/3"].sum() == 0 and not known["b/3"][TAG_INDEX["red hair"]]
    assert not known["b/3"][TAG_INDEX["long hair"]] and not known["b/3"][TAG_INDEX["short hair"]]
    assert known["4"].sum() == 0  # no CSV row: unlabelled
    assert report["unknown_tags"] == {"bicolored eyes": 1, "gray eyes": 1}
    raw = report["raw_tag_counts"]
    assert raw["blonde hair"] == 2 and raw["red hair"] == 2 and raw["bicolored eyes"] == 1
    assert report["csv_rows"] == 4
    assert report["with_csv_row"] == 3 and report["without_csv_row"] == 1
    assert report["csv_rows_without_image"] == 1
    assert report["csv_rows_without_image_examples"] == ["missing.png"]
    assert report["label_decisions"] == {
        "hair_color_several": 1,
        "hair_color_none": 0,
        "eye_color_several": 0,
        "eye_color_none": 2,
        "long_hair_and_short_hair": 1,
    }
    assert ds.metadata[1]["tags"] == ["blonde hair", "blue eyes", "bicolored eyes"]
    assert "tags not among the 34: bicolored eyes 1, gray eyes 1" in format_report(report)


def test_assume_complete_makes_absent_tags_false(tmp_path: Path) -> None:
    csv = "file,tags\n1.png,blonde hair;smile"
    src = write(tmp_path / "src", {"1.png": solid(RED), "t.csv": csv})
    ds, report = run(src, tags_csv_path=src / "t.csv", assume_complete=True)
    assert report["tags_csv"] == str(src / "t.csv")
    eyes = [TAG_INDEX["blue eyes"], TAG_INDEX["red eyes"]]
    assert ds.known[0].sum() == NUM_TAGS - 10  # no eye color named: the eye group is unknown
    assert not ds.known[0][eyes].any()
    assert ds.labels[0].sum() == 2 and ds.known[0][TAG_INDEX["glasses"]] == 1


def test_tags_csv_errors_name_the_file_and_columns(tmp_path: Path) -> None:
    src = write(tmp_path / "src", {"1.png": solid(RED), "bad.csv": "image,labels\n1.png,x\n"})
    with pytest.raises(UserError, match=r"nope\.csv.*tags=null"):
        run(src, tags_csv_path="nope.csv")
    found = r"no 'file' or 'tags' column \(columns found: 'image', 'labels'\)"
    with pytest.raises(UserError, match=found):
        run(src, tags_csv_path="bad.csv")
    write(src, {"x/tags.csv": "file,tags\n", "y/tags.csv": "file,tags\n"})
    ds, report = run(src)  # two candidates: neither is guessed
    assert report["tags_csv"] is None and len(ds) == 1
    assert any("several tags.csv" in w for w in report["warnings"])


def test_zip_source_with_csv_member_matches_folder_import(tmp_path: Path) -> None:
    files = {
        "images/1_2004.png": solid(RED),
        "images/2_2007.jpg": encode(Image.new("RGB", (24, 16), RED), "JPEG"),
        "tags.csv": "file,tags\n1_2004.png,pink hair\n2_2007.jpg,aqua eyes\n",
    }
    archive = tmp_path / "faces.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for rel, data in files.items():
            zf.writestr(rel, data)
        zf.writestr("__MACOSX/images/._1_2004.png", b"junk")
    ds, report = run(archive, tags_csv_path="tags.csv")
    folder_ds, _ = run(write(tmp_path / "folder", files), tags_csv_path="tags.csv")
    assert ds.ids == ["images/1_2004", "images/2_2007"] == folder_ds.ids
    assert [m["year"] for m in ds.metadata] == [2004, 2007]
    assert ds.metadata[1]["source"] == "faces.zip:images/2_2007.jpg"
    assert (ds.images == folder_ds.images).all() and (ds.labels == folder_ds.labels).all()
    assert report["tags_csv"] == "tags.csv" and report["files"]["ignored"] == 1
    assert ds.labels[0][TAG_INDEX["pink hair"]] == 1 and ds.labels[1][TAG_INDEX["aqua eyes"]] == 1


def test_year_parsing_and_min_year_filter(tmp_path: Path) -> None:
    names = ("a_2004", "b_2006", "c_2010", "d")
    src = write(tmp_path / "src", {f"{n}.png": solid(RED) for n in names})
    ds, report = run(src)
    assert [m["year"] for m in ds.metadata] == [2004, 2006, 2010, None]
    ds, report = run(src, min_year=2006)
    assert ds.ids == ["b_2006", "c_2010"]
    assert report["years"] == {
        "year_regex": importer.DEFAULT_YEAR_REGEX,
        "with_year": 2,
        "without_year": 0,
        "min_year": 2006,
        "removed_before_min_year": 1,
        "removed_without_year": 1,
    }  # with/without: the imported images
    ds, _ = run(write(tmp_path / "dash", {"2007-x.png": solid(RED)}), year_regex=r"^(\d{4})-")
    assert ds.metadata[0]["year"] == 2007
    with pytest.raises(UserError, match="no file name matches year_regex"):
        run(src, year_regex=r"^y(\d+)", min_year=2006)
    with pytest.raises(UserError, match="not a valid regular expression"):
        run(src, year_regex="(")


def test_bad_arguments_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"source .*nowhere does not exist"):
        run(tmp_path / "nowhere")
    empty = write(tmp_path / "empty", {"readme.txt": "no images"})
    with pytest.raises(UserError, match=r"no images in .*empty: looked for .*\.jpg, \.jpeg, \.png"):
        run(empty)
    with pytest.raises(UserError, match="neither a folder nor a zip"):
        run(empty / "readme.txt")
    good = write(tmp_path / "good", {"1.png": solid(RED)})
    with pytest.raises(UserError, match="resolution=4 is not an integer >= 8"):
        run(good, resolution=4)
    with pytest.raises(UserError, match="crop='zoom'"):
        run(good, crop="zoom")


def test_interrupted_import_leaves_the_previous_dataset_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write(tmp_path / "src", {f"{i}.png": solid((i, i, i)) for i in range(12)})
    out = tmp_path / "data" / "faces"
    run(src, out, workers=1)
    before = load_dataset(out, mmap=False)
    write(src, {f"new{i}.png": solid(RED) for i in range(40)})
    calls = []

    def flaky(data: bytes, resolution: int, crop: str = "center", *limits: int):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(data, resolution, crop, *limits)

    real = importer.decode_face
    monkeypatch.setattr(importer, "decode_face", flaky)
    with pytest.raises(KeyboardInterrupt):
        run(src, out, workers=2)
    after = load_dataset(out, mmap=False)
    assert after.ids == before.ids and (after.images == before.images).all()
    assert after.info["report"]["imported"] == 12
    assert sorted(p.name for p in out.parent.iterdir()) == ["faces"]  # no .faces.*.tmp left
    assert len(calls) < 30  # the work still queued was cancelled (52 images in all)


def test_threads_give_the_same_result_as_serial(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    noise = [Image.fromarray(rng.integers(0, 255, (20, 28, 3), np.uint8)) for _ in range(30)]
    src = write(tmp_path / "src", {f"{i:02d}.png": encode(im) for i, im in enumerate(noise)})
    one, _ = run(src, workers=1)
    three, _ = run(src, workers=3)
    assert one.ids == three.ids == sorted(one.ids) and (one.images == three.images).all()


def test_cli_writes_the_dataset_and_reports_errors_in_one_line(tmp_path: Path) -> None:
    src = write(
        tmp_path / "src",
        {"1_2008.png": solid(RED), "2.png": b"", "tags.csv": "file,tags\n1_2008.png,red hair\n"},
    )
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "anime_gan.cli.main",
        "import",
        f"hydra.run.dir={tmp_path / 'run'}",
        "progress=false",
    ]
    done = subprocess.run(
        [*cmd, f"source={src}", f"out={out}", "resolution=16"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert "images: 1   resolution: 16x16" in done.stdout
    assert "skipped 1 empty: 2.png" in done.stdout
    ds = load_dataset(out)
    assert ds.labels[0][TAG_INDEX["red hair"]] == 1 and ds.info["report"]["skipped"] == {"empty": 1}
    failed = subprocess.run(
        [*cmd, f"source={tmp_path / 'nowhere'}"], capture_output=True, text=True, cwd=REPO
    )
    assert failed.returncode == 2 and "Traceback" not in failed.stderr
    assert failed.stderr.strip().startswith("error: source") and "does not exist" in failed.stderr


def shared_zip(shared_dir: Path, name: str) -> Path:
    path = shared_dir / "data" / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@pytest.mark.slow
def test_shared_getchu64_matches_its_readme(shared_dir: Path) -> None:
    ds, report = run(shared_zip(shared_dir, "getchu64.zip"), resolution=64, workers=2)
    assert len(ds) == 12705 and ds.images.shape[1:] == (64, 64, 3)
    years = {y: sum(m["year"] == y for m in ds.metadata) for y in range(2000, 2010)}
    assert years == {
        2000: 200,
        2001: 949,
        2002: 244,
        2003: 0,
        2004: 319,
        2005: 2094,
        2006: 2174,
        2007: 2314,
        2008: 2351,
        2009: 2060,
    }
    assert sum(n for y, n in years.items() if y >= 2006) == 8899  # what min_year=2006 keeps
    assert report["skipped"] == {} and report["tags_csv"] is None and ds.known.sum() == 0


@pytest.mark.slow
def test_shared_mlds96_tag_counts_match_its_readme(shared_dir: Path) -> None:
    ds, report = run(shared_zip(shared_dir, "mlds96.zip"), resolution=64, workers=2)
    assert len(ds) == 14459 and ds.images.shape[1:] == (64, 64, 3)
    assert report["with_csv_row"] == 14459 and report["skipped"] == {}
    readme = (
        "long hair 6766, short hair 3220, blue eyes 3198, blonde hair 2965, "
        "brown hair 2946, red eyes 2428, black hair 2164, brown eyes 1712, green eyes 1577, "
        "blue hair 1503, pink hair 1415, purple eyes 1413, purple hair 1094, aqua eyes 1042, "
        "yellow eyes 925, red hair 816, green hair 801, gray hair 736, aqua hair 695, "
        "white hair 685, pink eyes 553, orange hair 326, orange eyes 285, black eyes 269, "
        "bicolored eyes 249, gray eyes 151"
    )
    expected = {name: int(n) for name, n in (item.rsplit(" ", 1) for item in readme.split(", "))}
    assert report["raw_tag_counts"] == expected
    assert report["unknown_tags"] == {"bicolored eyes": 249, "gray eyes": 151}
    assert report["label_decisions"] == {
        "hair_color_several": 1951,
        "hair_color_none": 1260,
        "eye_color_several": 1334,
        "eye_color_none": 2845,
        "long_hair_and_short_hair": 820,
    }
    assert ds.known[:, TAG_INDEX["blonde hair"]].sum() == 14459 - 1951 - 1260
    assert ds.metadata[0]["source"] == "mlds96.zip:images/10.jpg" and ds.metadata[0]["width"] == 96
