"""``anime-gan serve``: the web page and an exported model, on 127.0.0.1:8000 by default."""

from __future__ import annotations

import threading
from pathlib import Path

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.errors import UserError


@stage("serve")
def main(cfg: DictConfig) -> None:
    from anime_gan.export.serve import make_server

    page, model = Path(cfg.page_dir), Path(cfg.model_dir)
    if not (page / "index.html").is_file():
        raise UserError(f"the page is not built ({page / 'index.html'} is missing): run `make web`.")
    if not (model / "model.json").is_file():
        raise UserError(f"{model} holds no exported model (no model.json): run `anime-gan export` "
                        f"(or `make export`) first, or set model_dir=<the export folder>.")
    try:
        server = make_server(page, model, cfg.host, cfg.port, max_body_bytes=cfg.max_body_bytes,
                             idle_timeout_s=cfg.idle_timeout_s)
    except OSError as e:
        raise UserError(f"cannot listen on {cfg.host}:{cfg.port} ({e.strerror}): pick another port=...") from None
    host, port = server.server_address[:2]
    print(f"serving the page at http://{host}:{port}/ with the model in {model} (Ctrl+C stops)", flush=True)
    if cfg.timeout:
        threading.Timer(float(cfg.timeout), server.shutdown).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped.")
    finally:
        server.server_close()
