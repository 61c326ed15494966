"""Where the lbpcascade_animeface model comes from (nagadomi's, MIT): a configured path, the cache, or a
one-time download from the upstream repository, always checked against the known SHA-256.

The file is nagadomi's MIT-licensed cascade; it is not shipped with the package. Order:

1. ``path`` (a configured file): used as is, after the checksum (``sha256=None`` skips it, for
   a deliberately different cascade);
2. ``<cache>/lbpcascade_animeface.xml`` (``~/.cache/anime-gan`` by default; ``ANIME_GAN_CACHE``
   or ``XDG_CACHE_HOME`` move it);
3. a download from :data:`CASCADE_URL` into the cache, written only once its checksum matches.

Offline with no file, the error says where to put one.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

from anime_gan.errors import UserError

CASCADE_NAME = "lbpcascade_animeface.xml"
CASCADE_URL = (
    "https://raw.githubusercontent.com/nagadomi/lbpcascade_animeface/master/"
    "lbpcascade_animeface.xml"
)
CASCADE_SHA256 = "9376d30ac38db6bda2a68b88b3b76bbd7e6aa33af47f7f5c76bc88ca75f1ce30"
_MAX_BYTES = 16 * 1024 * 1024  # the real file is 246,945 bytes


def default_cache_dir() -> Path:
    """``$ANIME_GAN_CACHE``, else ``$XDG_CACHE_HOME/anime-gan``, else ``~/.cache/anime-gan``."""
    if os.environ.get("ANIME_GAN_CACHE"):
        return Path(os.environ["ANIME_GAN_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "anime-gan"


def verify_cascade(path: Path, sha256: str | None = CASCADE_SHA256) -> Path:
    """Return ``path`` when its SHA-256 is ``sha256`` (or ``sha256`` is None), else a UserError."""
    if sha256 is None:
        return path
    with open(path, "rb") as f:
        actual = hashlib.file_digest(f, "sha256").hexdigest()
    if actual != sha256.lower():
        raise UserError(
            f"the cascade file {path} has SHA-256 {actual[:12]}..., not the expected "
            f"{sha256[:12]}...: replace it with lbpcascade_animeface.xml from {CASCADE_URL} "
            f"(or delete it to download it again)."
        )
    return path


def locate_cascade(
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    url: str = CASCADE_URL,
    sha256: str | None = CASCADE_SHA256,
    download: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Path of a verified cascade file: ``path``, else the cache, else a fresh download."""
    if path:
        given = Path(path).expanduser()
        if not given.is_file():
            raise UserError(
                f"the cascade file {given} does not exist: fix `cascade.path=` or set "
                f"`cascade.path=null` to use the cache ({default_cache_dir() / CASCADE_NAME}) "
                f"or a download."
            )
        return verify_cascade(given, sha256)
    cached = (Path(cache_dir).expanduser() if cache_dir else default_cache_dir()) / CASCADE_NAME
    if cached.is_file():
        return verify_cascade(cached, sha256)
    if not download:
        raise UserError(_missing_message(cached, "downloads are off (download=false)"))
    return download_cascade(url, cached, sha256, timeout)


def download_cascade(url: str, dest: Path, sha256: str | None, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` atomically; the file appears only if its checksum matches."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (fixed URL)
            data = response.read(_MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as e:
        why = f"the download from {url} failed ({getattr(e, 'reason', None) or e})"
        raise UserError(_missing_message(dest, why)) from None
    actual = hashlib.sha256(data).hexdigest()
    if sha256 is not None and actual != sha256.lower():
        raise UserError(
            f"the cascade downloaded from {url} has SHA-256 {actual[:12]}..., not the expected "
            f"{sha256[:12]}...: download lbpcascade_animeface.xml by hand from the nagadomi/"
            f"lbpcascade_animeface repository and put it at {dest} (or set cascade.path=PATH)."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dest)
    return dest


def _missing_message(dest: Path, why: str) -> str:
    return (
        f"the face detector cascade is not available and {why}: download {CASCADE_NAME} from "
        f"{CASCADE_URL} and put it at {dest}, or set cascade.path=/path/to/{CASCADE_NAME}."
    )
