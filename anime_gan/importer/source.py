"""A folder (searched recursively) or a zip archive of files, read by relative path (our own
code: one sorted, filtered file list for both, and reads capped at ``max_member_bytes``).

One interface for both, so a stage can take ``source=`` pointing at either. Paths are posix
paths relative to the folder or the archive root, sorted, so every run sees the same order.
Hidden files and folders (``.name``) and macOS archive debris (``__MACOSX/``, ``._name``) are
left out and counted in ``ignored``. :meth:`ImageSource.read` may be called from several
threads at once, and never reads more than ``max_bytes`` of a file or member.
"""

from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path

from anime_gan.errors import UserError
from anime_gan.limits import DEFAULT_MAX_BYTES, TooLarge, read_capped, read_file_capped

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")


class ImageSource:
    """Files of a folder or a ``.zip``; raises :class:`UserError` when ``path`` is neither."""

    def __init__(self, path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.path, self.max_bytes = Path(path), max_bytes
        self._zip: zipfile.ZipFile | None = None
        self._lock = threading.Lock()
        if not self.path.exists():
            raise UserError(
                f"source {self.path} does not exist: point source= at a folder or a .zip of images."
            )
        if self.path.is_dir():
            names = [
                (Path(folder) / name).relative_to(self.path).as_posix()
                for folder, _, files in os.walk(self.path)
                for name in files
            ]
        else:
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as e:  # not a zip, a damaged one, unreadable
                raise UserError(
                    f"source {self.path} is neither a folder nor a zip archive that can be read "
                    f"({e}): point source= at a folder or a .zip of images (repack a damaged one)."
                ) from None
            names = [i.filename for i in self._zip.infolist() if not i.is_dir()]
        # hidden files and folders (".name" anywhere in the path) and macOS archive debris
        self.files = sorted(
            n for n in names if not n.startswith((".", "__MACOSX/")) and "/." not in n
        )
        self.ignored = len(names) - len(self.files)
        self.is_zip = self._zip is not None

    def read(self, rel: str) -> bytes:
        """The bytes of one file (raises ``OSError``/``zipfile.BadZipFile`` when unreadable, and
        :class:`~anime_gan.limits.TooLarge` over ``max_bytes``, without reading it whole)."""
        if self._zip is None:
            return read_file_capped(self.path / rel, self.max_bytes)
        with self._lock:  # one ZipFile handle shared by the decode threads
            info = self._zip.getinfo(rel)
            if info.file_size > self.max_bytes:
                raise TooLarge(
                    f"{rel} unpacks to {info.file_size:,} bytes, over "
                    f"max_member_bytes={self.max_bytes:,}"
                )
            with self._zip.open(info) as member:  # the header may lie: read at most the cap
                return read_capped(member, self.max_bytes, rel)

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._zip is not None:  # a folder holds no open handle
            self._zip.close()
