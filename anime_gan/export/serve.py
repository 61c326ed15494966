"""A small static file server for the page and an exported model (``anime-gan serve``).

Own handler, not http.server's SimpleHTTPRequestHandler: that one has no ETag, no ``.gz``
siblings, no symlink containment, and its ``send_error`` closes the connection (a 414 must not).

Roots: the built page (web/dist) at ``/``, each export folder at ``/models/<name>/`` (every
folder with a model.json under ``model_dir``, or ``model_dir`` itself: :func:`find_exports`),
the default one also at ``/model/``, and their list at ``/models/index.json``, which the page
reads to list the models with their resolution, variants (file, size, parity with PyTorch) and
provenance from each ``model.json``, and loads the one the visitor picks.
The server computes nothing: the browser runs the generator. What it takes care of:

- only files under a root are served (``..`` segments, encoded or not, backslashes, NUL bytes
  and symlinks that lead outside a root are refused), checked on the file actually sent (the
  plain file or its ``.gz``); a path segment over 255 characters is answered 414;
- bounded resources: a request body over ``max_body_bytes`` is answered 413, a connection idle
  for ``idle_timeout_s`` is closed;
- MIME types the browser insists on (``.wasm`` application/wasm for streaming compilation,
  ``.mjs``/``.js`` text/javascript for module workers), ``.onnx`` application/octet-stream;
- ``Cross-Origin-Opener-Policy: same-origin`` and ``Cross-Origin-Embedder-Policy: require-corp``,
  which make the page cross-origin isolated so onnxruntime-web may use WASM threads;
- caching: every response has an ETag and ``Cache-Control: no-cache`` (the browser keeps the
  14 MB runtime and the model and revalidates them with one cheap 304 request per load);
- compression: a file with a precompressed ``<name>.gz`` beside it (web/build.mjs writes them for
  the runtime: 14 MB of WASM become about 3.5 MB) is sent gzip-encoded to browsers that accept it.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import logging
import re
import shutil
import threading
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from anime_gan.errors import UserError

log = logging.getLogger("anime_gan.serve")

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".onnx": "application/octet-stream",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
}
ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
CHUNK = 1 << 20


#: The longest path segment a file system takes (NAME_MAX): a longer one is answered 414.
MAX_SEGMENT = 255
#: A name that is safe as one URL path segment and as a query value (``?model=<name>``).
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def find_exports(model_dir: str | Path) -> dict[str, Path]:
    """Export name -> folder: ``model_dir`` itself when it holds a model.json, else each of its
    sub-folders that does (sorted by name; names that are not URL-safe are skipped)."""
    root = Path(model_dir)
    if (root / "model.json").is_file():
        name = root.resolve().name
        return {name if NAME.match(name) else "model": root}
    folders = sorted(root.iterdir()) if root.is_dir() else []
    return {p.name: p for p in folders if NAME.match(p.name) and (p / "model.json").is_file()}


def pick_default(exports: dict[str, Path], wanted: str | None = None) -> str:
    """The export the page loads first: ``wanted``, else ``demo``, else the first by name."""
    if wanted:
        if wanted not in exports:
            raise UserError(
                f"default_model={wanted!r} is not among the exports found ({', '.join(exports)}): "
                f"pick one of them."
            )
        return wanted
    return "demo" if "demo" in exports else next(iter(exports))


def _entry(name: str, folder: Path) -> dict[str, Any]:
    """What the page shows of one export; a model.json it cannot read is listed with its reason."""
    entry = {"name": name, "path": f"models/{name}/"}
    try:
        card = json.loads((folder / "model.json").read_text())
        source = card.get("source", {})
        config = source.get("generator_config") or {}
        return {
            **entry,
            "resolution": card["resolution"],
            "z_dim": card["z_dim"],
            "default_variant": card["default_variant"],
            "variants": {
                k: {"file": v["file"], "bytes": v["bytes"], "parity": v.get("parity")}
                for k, v in card["models"].items()
            },
            "source": {
                "iteration": source.get("iteration"),
                "checkpoint": source.get("checkpoint"),
                "note": source.get("note"),
                "generator": config.get("name"),
                "channels": config.get("channels"),
                "res_blocks": config.get("num_res_blocks"),
                "prior": source.get("prior_kind"),
            },
            "exported": card.get("exported"),
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        return {**entry, "error": f"model.json cannot be read ({e})"}


class Chosen(NamedTuple):
    path: Path  # the resolved file to send
    gzipped: bool  # it is the precompressed <name>.gz of the file the URL names
    name: str  # the name the URL names (its suffix gives the MIME type)


def choose_file(roots: dict[str, Path], url_path: str, gzip_ok: bool = False) -> Chosen | None:
    """The file to send for a URL path under one of ``roots`` (URL prefix -> folder; ``/`` and
    folders mean index.html; the precompressed ``<name>.gz`` only with ``gzip_ok``), or None
    when the path leaves its root, names nothing, or is malformed. Whichever file is chosen,
    its resolved path lies under the root: a ``.gz`` symlink that leads outside is ignored and
    the plain file sent."""
    path = unquote(urlsplit(url_path).path)
    if "\x00" in path or "\\" in path or not path.startswith("/"):
        return None
    if any(part in ("..", ".") for part in path.split("/")):
        return None
    prefixes = sorted(roots, key=len, reverse=True)  # the longest prefix wins: /model/ before /
    prefix = next((p for p in prefixes if path == p.rstrip("/") or path.startswith(p)), None)
    if prefix is None:
        return None
    root = roots[prefix].resolve()

    def within(p: Path) -> Path | None:
        p = p.resolve()
        return p if p.is_relative_to(root) and p.is_file() else None

    try:
        candidate = root / path[len(prefix) :].lstrip("/")
        if candidate.resolve().is_dir():
            candidate = candidate / "index.html"
        plain = within(candidate)  # None: a symlink that leads outside the root, or nothing there
        gz = within(candidate.with_name(candidate.name + ".gz")) if plain and gzip_ok else None
    except OSError:  # a name the file system refuses (a segment over MAX_SEGMENT, ...)
        return None
    return Chosen(gz or plain, gz is not None, candidate.name) if plain else None


class StaticHandler(BaseHTTPRequestHandler):
    """GET/HEAD of files under the server's roots and of ``/models/index.json`` (the list of
    the exports, made at start), with the headers the page needs."""

    server_version = "anime-gan"
    protocol_version = "HTTP/1.1"

    def __init__(
        self,
        *args,
        roots: dict[str, Path],
        index: bytes,
        max_body_bytes: int,
        idle_timeout_s: float | None,
        **kwargs,
    ) -> None:
        self.roots, self.index, self.max_body_bytes = roots, index, max_body_bytes
        self.timeout = idle_timeout_s  # socketserver: a connection idle this long is closed
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        raw = unquote(urlsplit(self.path).path)
        if ".." in raw.replace("\\", "/").split("/"):
            return self._refuse(
                HTTPStatus.FORBIDDEN, "paths outside the served folders are refused"
            )
        if any(len(part) > MAX_SEGMENT for part in raw.split("/")):
            return self._refuse(HTTPStatus.REQUEST_URI_TOO_LONG, "a path segment is too long")
        if not self._discard_body():
            return None
        if raw == "/models/index.json":
            etag = f'"{hashlib.sha256(self.index).hexdigest()[:16]}"'
            headers = {"Content-Type": MIME_TYPES[".json"], "ETag": etag}
            return self._send_cached(headers, self.index, len(self.index))
        chosen = choose_file(
            self.roots, self.path, "gzip" in self.headers.get("Accept-Encoding", "")
        )
        if chosen is None:
            return self._refuse(HTTPStatus.NOT_FOUND, "not found")
        stat = chosen.path.stat()
        headers = {
            "Content-Type": MIME_TYPES.get(
                Path(chosen.name).suffix.lower(), "application/octet-stream"
            ),
            **({"Content-Encoding": "gzip"} if chosen.gzipped else {}),
            "Vary": "Accept-Encoding",
            "ETag": f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"',
            "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
        }
        return self._send_cached(headers, chosen.path, stat.st_size)

    do_HEAD = do_GET  # noqa: N815 (the body is left out for HEAD in _send)

    def _send_cached(self, headers: dict[str, str], body: bytes | Path, size: int) -> None:
        """200 with ``body``, or 304 when the browser's copy has the same ETag."""
        headers = {**headers, "Cache-Control": "no-cache", **ISOLATION_HEADERS}
        if headers["ETag"] in [t.strip() for t in self.headers.get("If-None-Match", "").split(",")]:
            return self._send(HTTPStatus.NOT_MODIFIED, headers, None)
        return self._send(HTTPStatus.OK, {**headers, "Content-Length": str(size)}, body)

    def _refuse(self, status: HTTPStatus, message: str) -> None:
        data = f"{status.value} {message}\n".encode()
        headers = {"Content-Type": MIME_TYPES[".txt"], "Content-Length": str(len(data))}
        self._send(status, {**headers, "Cache-Control": "no-store"}, data)

    def _send(self, status: HTTPStatus, headers: dict[str, str], body: bytes | Path | None) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body is not None and self.command != "HEAD":
            with io.BytesIO(body) if isinstance(body, bytes) else body.open("rb") as f:
                shutil.copyfileobj(f, self.wfile, CHUNK)

    def _discard_body(self) -> bool:
        """Read and drop a request body (GET and HEAD need none) up to ``max_body_bytes``; a
        larger one is answered 413 and the connection closed. False when refused."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.max_body_bytes:
            self.close_connection = True
            self._refuse(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE if length > 0 else HTTPStatus.BAD_REQUEST,
                f"request bodies are limited to {self.max_body_bytes} bytes",
            )
            return False
        while length > 0 and (chunk := self.rfile.read(min(length, CHUNK))):
            length -= len(chunk)
        return True

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        log.debug("%s %s", self.address_string(), format % args)


def make_server(
    page_dir: str | Path,
    model_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    default_model: str | None = None,
    max_body_bytes: int = 65536,
    idle_timeout_s: float | None = 30.0,
) -> ThreadingHTTPServer:
    """A threaded server (not yet serving) for the page at /, each export found in ``model_dir``
    at /models/<name>/ (the default one also at /model/) and their list at /models/index.json;
    port 0 picks a free one (``server.server_address`` says which). A connection that sends
    nothing for ``idle_timeout_s`` is closed, so idle clients do not hold threads.

    Raises :class:`UserError` when the page is not built or ``model_dir`` holds no export."""
    page = Path(page_dir)
    if not (page / "index.html").is_file():
        raise UserError(
            f"the page is not built ({page / 'index.html'} is missing): run `make web`."
        )
    exports = find_exports(model_dir)
    if not exports:
        raise UserError(
            f"{model_dir} holds no exported model (no model.json in it or in its folders): run "
            f"`anime-gan export` (or `make export`) first, or set model_dir=<an export folder>."
        )
    default = pick_default(exports, default_model)
    roots = {
        "/model/": exports[default],
        **{f"/models/{n}/": p for n, p in exports.items()},
        "/": page,
    }
    index = {
        "format": "anime-gan/models",
        "version": 1,
        "default": default,
        "models": [_entry(name, folder) for name, folder in exports.items()],
    }
    handler = partial(
        StaticHandler,
        roots=roots,
        index=(json.dumps(index, indent=1) + "\n").encode(),
        max_body_bytes=max_body_bytes,
        idle_timeout_s=idle_timeout_s,
    )
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    server.exports = exports  # type: ignore[attr-defined]  (name -> folder, for the CLI's message)
    return server


def serve_in_background(
    page_dir: str | Path, model_dir: str | Path, **options: Any
) -> tuple[ThreadingHTTPServer, str]:
    """Start a server in a daemon thread on a free port (unless ``port`` says which); returns it
    and its base URL. ``server.shutdown()`` stops it (tests and benchmarks). ``options``: those
    of :func:`make_server`."""
    server = make_server(page_dir, model_dir, **{"port": 0, **options})
    threading.Thread(target=server.serve_forever, name="anime-gan-serve", daemon=True).start()
    bound_host, bound_port = server.server_address[:2]
    return server, f"http://{bound_host}:{bound_port}/"
