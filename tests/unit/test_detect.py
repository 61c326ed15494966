import hashlib
import http.server
import json
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anime_gan.errors import UserError
from anime_gan.faces import cascade as cascade_mod
from anime_gan.faces import detect as detect_mod
from anime_gan.faces.cascade import CASCADE_SHA256, locate_cascade
from anime_gan.faces.detect import DetectParams, FaceDetector, read_rgb, run_detect
from anime_gan.faces.geometry import crop_box_pixels, zoom_box
from anime_gan.faces.records import read_done, read_faces
from anime_gan.faces.sources import list_sources


@pytest.fixture
def cascade(shared_dir: Path) -> Path:
    return locate_cascade(shared_dir / "assets" / "lbpcascade_animeface.xml")


# --- geometry -------------------------------------------------------------------------------


def test_zoom_box_is_square_about_the_centre():
    x0, y0, x1, y1 = zoom_box((68, 47, 113, 113))
    assert x1 - x0 == y1 - y0 == 170  # round(1.5 * 113)
    assert abs((x0 + x1) / 2 - (68 + 113 / 2)) <= 0.5
    assert abs((y0 + y1) / 2 - (47 + 113 / 2)) <= 0.5
    assert zoom_box((10, 10, 20, 20), 2.0) == (0, 0, 40, 40)


def _ramp(h: int = 40, w: int = 60) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack([yy * 5, xx * 4, np.full_like(xx, 7)], axis=-1).astype(np.uint8)


def test_crop_inside_is_the_exact_slice():
    img = _ramp()
    out = crop_box_pixels(img, (10, 5, 30, 25), border="skip")
    np.testing.assert_array_equal(out, img[5:25, 10:30])


def test_crop_at_the_border_pad_replicate_constant_and_skip():
    img = _ramp()
    box = (-6, -4, 14, 16)  # leaves the top-left corner
    rep = crop_box_pixels(img, box, border="pad", pad_mode="replicate")
    assert rep.shape == (20, 20, 3)
    np.testing.assert_array_equal(rep[4:, 6:], img[0:16, 0:14])  # the real pixels, in place
    np.testing.assert_array_equal(rep[0, 6:], img[0, 0:14])  # rows above repeat the top row
    np.testing.assert_array_equal(rep[4:, 0], img[0:16, 0])  # columns left repeat the left column
    const = crop_box_pixels(img, box, border="pad", pad_mode="constant", pad_value=255)
    assert (const[:4] == 255).all() and (const[:, :6] == 255).all()
    np.testing.assert_array_equal(const[4:, 6:], img[0:16, 0:14])
    assert crop_box_pixels(img, box, border="skip") is None
    bottom_right = crop_box_pixels(img, (50, 30, 70, 50), pad_mode="constant", pad_value=0)
    np.testing.assert_array_equal(bottom_right[:10, :10], img[30:40, 50:60])
    assert (bottom_right[10:] == 0).all() and (bottom_right[:, 10:] == 0).all()


def test_bad_policy_is_a_user_error():
    with pytest.raises(UserError, match="border"):
        DetectParams(border="clip")


# --- the cascade file -----------------------------------------------------------------------


def test_cascade_missing_offline_says_where_to_put_it(tmp_path):
    with pytest.raises(UserError) as e:
        locate_cascade(cache_dir=tmp_path / "cache", download=False)
    msg = str(e.value)
    assert str(tmp_path / "cache" / "lbpcascade_animeface.xml") in msg
    assert cascade_mod.CASCADE_URL in msg and "cascade.path=" in msg


def test_cascade_unreachable_download_says_where_to_put_it(tmp_path):
    with pytest.raises(UserError, match="put it at .*lbpcascade_animeface.xml"):
        locate_cascade(cache_dir=tmp_path, url="http://127.0.0.1:9/lbp.xml", timeout=2)
    assert not list(tmp_path.iterdir())


def test_cascade_configured_path_missing_or_wrong(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        locate_cascade(tmp_path / "nope.xml")
    bad = tmp_path / "bad.xml"
    bad.write_text("<opencv_storage/>")
    with pytest.raises(UserError, match="SHA-256"):
        locate_cascade(bad)
    assert locate_cascade(bad, sha256=None) == bad  # checks can be turned off on purpose


@pytest.fixture
def local_server(tmp_path):
    """Serves tmp_path/www on 127.0.0.1; yields the base URL."""
    www = tmp_path / "www"
    www.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_cascade_download_checks_the_sha(tmp_path, local_server):
    www, base = local_server
    body = b"<opencv_storage>not the real cascade</opencv_storage>"
    (www / "lbp.xml").write_bytes(body)
    cache = tmp_path / "cache"
    with pytest.raises(UserError, match="SHA-256"):
        locate_cascade(cache_dir=cache, url=f"{base}/lbp.xml")  # the default, real checksum
    assert not (cache / "lbpcascade_animeface.xml").exists()  # nothing half-trusted is kept
    digest = hashlib.sha256(body).hexdigest()
    got = locate_cascade(cache_dir=cache, url=f"{base}/lbp.xml", sha256=digest)
    assert got == cache / "lbpcascade_animeface.xml" and got.read_bytes() == body
    (www / "lbp.xml").unlink()  # now cached: no second download
    assert locate_cascade(cache_dir=cache, url=f"{base}/lbp.xml", sha256=digest) == got
    with pytest.raises(UserError, match="delete it"):  # a cached file that does not match
        locate_cascade(cache_dir=cache, url=f"{base}/lbp.xml")


def test_real_cascade_downloads_through_a_local_server(tmp_path, local_server, shared_dir):
    www, base = local_server
    (www / "lbp.xml").write_bytes((shared_dir / "assets" / "lbpcascade_animeface.xml").read_bytes())
    got = locate_cascade(cache_dir=tmp_path / "c", url=f"{base}/lbp.xml")
    assert hashlib.sha256(got.read_bytes()).hexdigest() == CASCADE_SHA256


# --- detection --------------------------------------------------------------------------------


def test_shiroha_one_face_and_the_spec_crop(shared_dir, cascade):
    rgb = read_rgb(shared_dir / "assets" / "shiroha.jpg")
    assert rgb.shape == (300, 250, 3)
    boxes = FaceDetector(cascade, DetectParams()).detect(rgb)
    assert len(boxes) == 1
    assert np.abs(np.array(boxes[0]) - [68, 47, 113, 113]).max() <= 3
    x, y, w, h = boxes[0]
    x0, y0, x1, y1 = zoom_box(boxes[0])
    assert x1 - x0 == y1 - y0 == round(1.5 * w)
    assert abs((x0 + x1) / 2 - (x + w / 2)) <= 0.5 and abs((y0 + y1) / 2 - (y + h / 2)) <= 0.5


def _fixture_folder(root: Path, shared_dir: Path) -> Path:
    """shiroha, miku, a mirrored shiroha, shiroha cut so that its box leaves the image, a blank
    image and a broken file."""
    src = root / "in"
    (src / "sub").mkdir(parents=True)
    shiroha = Image.open(shared_dir / "assets" / "shiroha.jpg").convert("RGB")
    shiroha.save(src / "a_shiroha_2008.png")
    Image.open(shared_dir / "assets" / "miku.jpg").save(src / "b_miku_2012.jpg")
    shiroha.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(src / "sub" / "c_flip_2004.png")
    shiroha.crop((50, 30, 250, 300)).save(src / "d_corner_2010.png")
    Image.new("RGB", (120, 90), "white").save(src / "e_blank.png")
    (src / "f_broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return src


def test_detect_folder_border_policies_and_unreadable(tmp_path, shared_dir, cascade):
    src = _fixture_folder(tmp_path, shared_dir)
    out = tmp_path / "pad"
    result = run_detect(
        src, out, cascade, DetectParams(), workers=1, year_regex=r"_(?P<year>\d{4})", progress=False
    )
    assert (result.sources, result.processed, result.faces) == (6, 6, 4)
    assert result.unreadable == ["f_broken.jpg"]
    faces = {r["id"]: r for r in read_faces(out)}
    assert set(faces) == {"a_shiroha_2008_0", "b_miku_2012_0", "c_flip_2004_0", "d_corner_2010_0"}
    corner = faces["d_corner_2010_0"]
    assert corner["padded"] and corner["crop_box"][0] < 0 and corner["year"] == 2010
    assert faces["a_shiroha_2008_0"]["crop_box"] == list(
        zoom_box(tuple(faces["a_shiroha_2008_0"]["box"]))
    )
    assert faces["c_flip_2004_0"]["source"] == "sub/c_flip_2004.png"
    with Image.open(out / "crops" / "a_shiroha_2008_0.png") as im:
        assert im.size == (256, 256)
    done = read_done(out)
    assert done["e_blank.png"]["faces"] == 0 and done["f_broken.jpg"]["status"] == "unreadable"
    summary = json.loads((out / "detect.json").read_text())
    assert summary["total"] == {"sources_done": 6, "faces": 4, "unreadable": 1, "no_face": 1}

    skip = run_detect(
        src,
        tmp_path / "skip",
        cascade,
        DetectParams(border="skip", master_resolution=64),
        workers=1,
        progress=False,
    )
    assert skip.faces == 3 and skip.dropped_border == 1
    small = run_detect(
        src, tmp_path / "small", cascade, DetectParams(min_face=120), workers=1, progress=False
    )
    assert small.faces == 3 and small.dropped_small == 1  # miku's box is 70 px: 105 px zoomed


def test_workers_give_the_same_rows(tmp_path, shared_dir, cascade):
    src = _fixture_folder(tmp_path, shared_dir)
    run_detect(src, tmp_path / "one", cascade, workers=1, progress=False)
    run_detect(src, tmp_path / "two", cascade, workers=2, progress=False)
    assert read_faces(tmp_path / "one") == read_faces(tmp_path / "two")


def test_interrupted_detect_resumes_without_redoing(tmp_path, shared_dir, cascade, monkeypatch):
    src = _fixture_folder(tmp_path, shared_dir)
    out = tmp_path / "out"
    real = detect_mod._process_source
    calls: list[str] = []

    def interrupted(source):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(source.key)
        return real(source)

    monkeypatch.setattr(detect_mod, "_process_source", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_detect(src, out, cascade, workers=1, progress=False)
    assert len(read_done(out)) == 3
    first = list(calls)

    calls.clear()
    monkeypatch.setattr(detect_mod, "_process_source", lambda s: (calls.append(s.key), real(s))[1])
    result = run_detect(src, out, cascade, workers=1, progress=False)
    assert result.already_done == 3 and result.processed == 3
    assert sorted(calls) == sorted(set(s.key for s in list_sources(src)[0]) - set(first))
    assert len(read_faces(out)) == 4  # nothing doubled
    again = run_detect(src, out, cascade, workers=1, progress=False)
    assert again.processed == 0


def test_torn_faces_line_of_an_unfinished_source_is_ignored(tmp_path, shared_dir, cascade):
    src = _fixture_folder(tmp_path, shared_dir)
    out = tmp_path / "out"
    run_detect(src, out, cascade, workers=1, limit=1, progress=False)
    with open(out / "faces.jsonl", "a") as f:  # a kill after a face row, before its done row
        f.write(json.dumps({"id": "b_miku_2012_0", "source_path": "b_miku_2012.jpg"}) + '\n{"id": ')
    assert [r["id"] for r in read_faces(out)] == ["a_shiroha_2008_0"]
    run_detect(src, out, cascade, workers=1, progress=False)
    assert len(read_faces(out)) == 4


# --- inputs -----------------------------------------------------------------------------------


def test_sources_from_a_crawl_manifest(tmp_path):
    crawl = tmp_path / "crawl"
    (crawl / "images" / "1").mkdir(parents=True)
    (crawl / "images" / "2").mkdir(parents=True)
    for rel in ("images/1/chara1.jpg", "images/2/chara1.jpg"):
        Image.new("RGB", (8, 8)).save(crawl / rel)
    rows = [
        {
            "url": "http://g/1/chara1.jpg",
            "path": "images/1/chara1.jpg",
            "sha256": "x",
            "game_id": 1,
            "release_date": "2007-03-30",
            "year": None,
            "bytes": 1,
            "page_url": "p",
        },
        {
            "url": "http://g/2/chara1.jpg",
            "path": "images/2/chara1.jpg",
            "sha256": "y",
            "game_id": 2,
            "release_date": None,
            "year": None,
            "bytes": 1,
            "page_url": "p",
        },
        {
            "url": "http://g/3/gone.jpg",
            "path": "images/3/gone.jpg",
            "sha256": "z",
            "game_id": 3,
            "release_date": None,
            "year": 2011,
            "bytes": 1,
            "page_url": "p",
        },
    ]
    (crawl / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    sources, missing = list_sources(crawl)
    assert missing == ["images/3/gone.jpg"]
    assert [(s.source, s.year, s.game_id) for s in sources] == [
        ("http://g/1/chara1.jpg", 2007, 1),
        ("http://g/2/chara1.jpg", None, 2),
    ]
    assert len({s.id for s in sources}) == 2 and all(s.id.startswith("chara1-") for s in sources)


def test_sources_folder_skips_the_output_and_hidden_files(tmp_path):
    for rel in ("x/a_1999.png", "b.txt", ".hidden/c.png", "out/crops/d.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"")
    sources, _ = list_sources(tmp_path, year_regex=r"\d{4}", exclude=[tmp_path / "out"])
    assert [(s.key, s.year, s.id) for s in sources] == [("x/a_1999.png", 1999, "a_1999")]
    with pytest.raises(UserError, match="does not exist"):
        list_sources(tmp_path / "nope")
