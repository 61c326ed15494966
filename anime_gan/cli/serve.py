"""``anime-gan serve``: the web page and the exported models, on 127.0.0.1:8000 by default."""

import threading

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.errors import UserError


@stage("serve")
def main(cfg: DictConfig) -> None:
    from anime_gan.export.serve import make_server

    try:
        server = make_server(
            cfg.page_dir,
            cfg.model_dir,
            cfg.host,
            cfg.port,
            cfg.default_model,
            max_body_bytes=cfg.max_body_bytes,
            idle_timeout_s=cfg.idle_timeout_s,
        )
    except OSError as e:
        raise UserError(
            f"cannot listen on {cfg.host}:{cfg.port} ({e.strerror}): pick another port=..."
        ) from None
    host, port = server.server_address[:2]
    print(
        f"serving the page at http://{host}:{port}/ with the model(s) {', '.join(server.exports)} "
        f"from {cfg.model_dir} (Ctrl+C stops)",
        flush=True,
    )
    if cfg.timeout:
        threading.Timer(cfg.timeout, server.shutdown).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped.")
    finally:
        server.server_close()
