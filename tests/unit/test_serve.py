"""The page server: only files under its roots, the right MIME types and headers, the CLI."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from anime_gan.errors import UserError
from anime_gan.export.serve import choose_file, find_exports, pick_default, serve_in_background

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("serve")
    page, model = root / "page", root / "model"
    (page / "ort").mkdir(parents=True)
    model.mkdir()
    (root / "secret.txt").write_text("outside the roots")
    (page / "index.html").write_text("<!doctype html><title>t</title>")
    (page / "main.js").write_text("export {};")
    (page / "ort" / "ort.wasm.min.mjs").write_text("export {};")
    (page / "ort" / "runtime.wasm").write_bytes(b"\0asm\1\0\0\0")
    (page / "ort" / "big.wasm").write_bytes(b"\0asm" * 1000)
    (page / "ort" / "big.wasm.gz").write_bytes(gzip.compress(b"\0asm" * 1000))
    (model / "model.json").write_text("{}")
    (model / "generator.onnx").write_bytes(b"onnx")
    (page / "escape").symlink_to(root / "secret.txt")
    return page, model, root


@pytest.fixture(scope="module")
def server(folders):
    page, model, _ = folders
    srv, url = serve_in_background(page, model)
    yield urlsplit(url).netloc
    srv.shutdown()
    srv.server_close()


def request(netloc: str, path: str, method: str = "GET", headers: dict | None = None):
    """A raw request: http.client sends the path as written (no '..' clean-up)."""
    conn = http.client.HTTPConnection(netloc, timeout=5)
    conn.request(method, path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/model/../../secret.txt",
        "/ort/..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/model/%2E%2E/%2E%2E/secret.txt",
    ],
)
def test_traversal_is_refused(server, path):
    response, body = request(server, path)
    assert response.status in (403, 404)
    assert b"outside the roots" not in body


def test_symlinks_out_of_a_root_and_odd_paths_are_not_served(server):
    for path in ("/escape", "/model/%00", "/nothing-here.js", "relative"):
        response, body = request(server, path)
        assert response.status in (400, 404), path
        assert b"outside the roots" not in body


@pytest.mark.parametrize(
    "path, mime",
    [
        ("/", "text/html; charset=utf-8"),
        ("/main.js", "text/javascript; charset=utf-8"),
        ("/ort/ort.wasm.min.mjs", "text/javascript; charset=utf-8"),
        ("/ort/runtime.wasm", "application/wasm"),
        ("/model/model.json", "application/json"),
        ("/model/generator.onnx", "application/octet-stream"),
    ],
)
def test_mime_types_and_headers(server, path, mime):
    response, body = request(server, path)
    assert response.status == 200
    assert response.getheader("Content-Type") == mime
    assert response.getheader("Content-Length") == str(len(body))
    assert response.getheader("Cross-Origin-Opener-Policy") == "same-origin"
    assert response.getheader("Cross-Origin-Embedder-Policy") == "require-corp"
    assert response.getheader("Cache-Control") == "no-cache" and response.getheader("ETag")


def test_revalidation_and_head(server, folders):
    response, body = request(server, "/model/generator.onnx")
    assert body == b"onnx"
    etag = response.getheader("ETag")
    again, body = request(server, "/model/generator.onnx", headers={"If-None-Match": etag})
    assert again.status == 304 and body == b""
    head, body = request(server, "/model/generator.onnx", method="HEAD")
    assert head.status == 200 and body == b"" and head.getheader("Content-Length") == "4"


def test_precompressed_files_go_to_browsers_that_accept_gzip(server):
    response, body = request(
        server, "/ort/big.wasm", headers={"Accept-Encoding": "gzip, deflate, br"}
    )
    assert (
        response.getheader("Content-Encoding") == "gzip"
        and response.getheader("Vary") == "Accept-Encoding"
    )
    assert (
        response.getheader("Content-Type") == "application/wasm"
        and gzip.decompress(body) == b"\0asm" * 1000
    )
    plain, body = request(server, "/ort/big.wasm")
    assert plain.getheader("Content-Encoding") is None and body == b"\0asm" * 1000


def test_resolve_maps_prefixes_to_roots(folders):
    page, model, _ = folders
    roots = {"/model/": model, "/": page}
    assert choose_file(roots, "/").path == (page / "index.html").resolve()
    assert choose_file(roots, "/model/model.json?x=1").path == (model / "model.json").resolve()
    assert choose_file(roots, "/model.json") is None  # the model folder is only under /model/
    assert choose_file(roots, "/ort/../main.js") is None


def _cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen(
        [sys.executable, "-m", "anime_gan.cli.main", "serve", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_serves_on_a_free_port_and_stops_by_itself(folders, tmp_path):
    page, model, _ = folders
    proc = _cli(
        f"page_dir={page}",
        f"model_dir={model}",
        "port=0",
        "timeout=30",
        f"hydra.run.dir={tmp_path}",
    )
    try:
        line = proc.stdout.readline()
        assert "serving the page at http://127.0.0.1:" in line, line + proc.stderr.read()
        netloc = urlsplit(line.split()[4]).netloc
        response, body = request(netloc, "/")
        assert response.status == 200 and body.startswith(b"<!doctype html>")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_cli_says_what_is_missing(folders, tmp_path):
    page, model, _ = folders
    proc = _cli(
        f"page_dir={tmp_path / 'nowhere'}", f"model_dir={model}", f"hydra.run.dir={tmp_path}"
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "run `make web`" in err and "Traceback" not in err
    proc = _cli(f"page_dir={page}", f"model_dir={tmp_path}", f"hydra.run.dir={tmp_path}")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "anime-gan export" in err


# --- reliability: the file actually sent, long segments, bodies, idle connections ----------


@pytest.fixture(scope="module")
def leaky(tmp_path_factory) -> tuple[str, Path]:
    """A page whose main.js.gz is a symlink to a gzip file outside the roots."""
    root = tmp_path_factory.mktemp("leaky")
    page, model = root / "page", root / "model"
    page.mkdir()
    model.mkdir()
    (page / "index.html").write_text("<!doctype html>")
    (page / "main.js").write_text("export {};")
    (model / "model.json").write_text(_card(32, 1))
    (root / "secret.gz").write_bytes(gzip.compress(b"outside the roots"))
    (page / "main.js.gz").symlink_to(root / "secret.gz")
    srv, url = serve_in_background(page, model, max_body_bytes=1024, idle_timeout_s=0.5)
    yield urlsplit(url).netloc, page
    srv.shutdown()
    srv.server_close()


def test_a_gz_sibling_leading_outside_is_never_sent(leaky):
    netloc, _ = leaky
    response, body = request(netloc, "/main.js", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.getheader("Content-Encoding") is None
    assert body == b"export {};"


def test_a_path_segment_over_255_characters_gets_414_not_a_dropped_connection(leaky):
    netloc, _ = leaky
    conn = http.client.HTTPConnection(netloc, timeout=5)
    conn.request("GET", "/" + "a" * 300 + ".js")
    response = conn.getresponse()
    assert response.status == 414 and b"too long" in response.read()
    conn.request("GET", "/main.js")  # the same connection still serves
    assert conn.getresponse().read() == b"export {};"
    conn.close()


def test_a_large_request_body_is_refused_with_413(leaky):
    netloc, _ = leaky
    response, body = request(netloc, "/main.js", headers={"Content-Length": str(10**9)})
    assert response.status == 413 and b"limited to 1024 bytes" in body
    conn = http.client.HTTPConnection(netloc, timeout=5)  # a small body is read and dropped
    conn.request("GET", "/main.js", body=b"x" * 100)
    assert conn.getresponse().read() == b"export {};"
    conn.close()


def test_an_idle_connection_is_closed_after_the_timeout(leaky):
    import socket
    import time

    netloc, _ = leaky
    host, port = netloc.split(":")
    start = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        assert sock.recv(1) == b""  # the server hangs up: nothing was sent for 0.5 s
    assert time.monotonic() - start < 4


def test_cli_refuses_a_port_out_of_range(folders, tmp_path):
    page, model, _ = folders
    proc = _cli(f"page_dir={page}", f"model_dir={model}", "port=99999", f"hydra.run.dir={tmp_path}")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "Traceback" not in err
    assert "error: port=99999 is not an integer from 0 to 65,535: use e.g. port=8000." in err


def _card(resolution: int, iteration: int | None) -> str:
    return json.dumps(
        {
            "resolution": resolution,
            "z_dim": 128,
            "default_variant": "int8",
            "models": {
                "int8": {"file": "generator.int8.onnx", "bytes": 4, "parity": {"psnr_db": 50.0}}
            },
            "source": {
                "iteration": iteration,
                "generator_config": {"name": "srresnet", "channels": 64},
            },
            "exported": "2026-01-01T00:00:00+00:00",
        }
    )


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    for name, resolution, iteration in (("demo", 32, 2500), ("paper128", 128, None)):
        (root / name).mkdir()
        (root / name / "model.json").write_text(_card(resolution, iteration))
        (root / name / "generator.int8.onnx").write_bytes(name.encode())
    (root / "broken").mkdir()
    (root / "broken" / "model.json").write_text("{not json")
    (root / "no-model").mkdir()  # no model.json: not an export
    (root / "bad name!").mkdir()
    (root / "bad name!" / "model.json").write_text(_card(64, 1))
    return root


def test_find_exports_lists_every_folder_with_a_model_json(exports):
    assert list(find_exports(exports)) == ["broken", "demo", "paper128"]
    assert list(find_exports(exports / "demo")) == ["demo"]  # an export folder itself
    assert find_exports(exports / "no-model") == {} and find_exports(exports / "nowhere") == {}
    assert pick_default(find_exports(exports)) == "demo"
    assert pick_default({"b": exports, "a": exports}) == "b"  # no demo: the first
    with pytest.raises(UserError, match="paper128"):
        pick_default(find_exports(exports), "paper256")


def test_several_exports_are_served_and_listed(folders, exports):
    page, _, _ = folders
    srv, url = serve_in_background(page, exports, default_model="paper128")
    try:
        netloc = urlsplit(url).netloc
        response, body = request(netloc, "/models/index.json")
        assert response.status == 200 and response.getheader("Content-Type") == "application/json"
        assert response.getheader("Cross-Origin-Embedder-Policy") == "require-corp"
        index = json.loads(body)
        assert index["default"] == "paper128"
        by_name = {m["name"]: m for m in index["models"]}
        assert set(by_name) == {"broken", "demo", "paper128"}
        assert (
            by_name["demo"]["resolution"] == 32 and by_name["demo"]["source"]["iteration"] == 2500
        )
        assert by_name["demo"]["variants"]["int8"] == {
            "file": "generator.int8.onnx",
            "bytes": 4,
            "parity": {"psnr_db": 50.0},
        }
        assert by_name["paper128"]["path"] == "models/paper128/" and "error" in by_name["broken"]
        for name in ("demo", "paper128"):
            response, body = request(netloc, f"/models/{name}/generator.int8.onnx")
            assert response.status == 200 and body == name.encode()
        _, body = request(netloc, "/model/generator.int8.onnx")
        assert body == b"paper128"  # the default export, also at /model/
        etag = request(netloc, "/models/index.json")[0].getheader("ETag")
        again, body = request(netloc, "/models/index.json", headers={"If-None-Match": etag})
        assert again.status == 304 and body == b""
        for path in (
            "/models/../secret.txt",
            "/models/no-model/x",
            "/models/demo/../paper128/model.json",
        ):
            assert request(netloc, path)[0].status in (403, 404), path
    finally:
        srv.shutdown()
        srv.server_close()
