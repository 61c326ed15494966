"""``anime-gan <stage> [hydra overrides]``: one subcommand per pipeline stage.

Each stage is a thin Hydra entry point in ``anime_gan.cli.<module>``; this dispatcher only picks
it and hands it the rest of the command line (so ``anime-gan train -m a=1,2`` is a multirun).
"""

import difflib
import importlib
import sys

from anime_gan.errors import UserError

#: stage -> one-line description, in the pipeline's order. Its module in anime_gan.cli is its
#: name with ``_`` for ``-`` (import: import_images).
STAGES: dict[str, str] = {
    "crawl": "download character images from Getchu (ErogameScape game list)",
    "detect": "find faces with lbpcascade_animeface and save 1.5x zoomed crops",
    "review": "contact sheets of face crops and a reject list for false positives",
    "tag": "estimate the 34 tags with Illustration2Vec",
    "convert-i2v": "convert Illustration2Vec .caffemodel weights to safetensors",
    "build": "pack crops + tags into the training set (year filter, resolution)",
    "import": "build a dataset from any folder/zip of images (+ optional tags CSV)",
    "render": "render the embedded procedural demo dataset (offline, any size)",
    "train": "train the conditional DRAGAN + ACGAN model (Lightning)",
    "evaluate": "FID / SWD and per-label precision of a checkpoint",
    "generate": "generate faces with chosen tags, grids and interpolations",
    "judge-train": "train the tag judge of per-label precision on a dataset's labels",
    "report": "the paper's figures and tables for a checkpoint, in one folder",
    "export": "export the generator to ONNX with the tag schema and prior",
    "serve": "serve the web page that generates in the browser",
    "bench": "speed of training and generation, FLOPs and model sizes (JSON + table)",
    "sr-train": "train the 2x upscaler (SRGAN: pixel + adversarial loss) and measure it",
    "upscale": "2x-upscale images with a trained upscaler, or export it to ONNX",
}
#: Small utilities that take plain arguments rather than Hydra overrides.
UTILITIES: dict[str, str] = {
    "tags": "list the 34 tags with their groups and Illustration2Vec indices",
    "describe": "summarise a dataset: describe PATH",
}


def usage() -> str:
    lines = ["usage: anime-gan <command> [hydra overrides...]   (anime-gan <command> --help)"]
    for title, commands in (("pipeline stages", STAGES), ("utilities", UTILITIES)):
        lines += ["", f"{title}:", *(f"  {name:<12}{desc}" for name, desc in commands.items())]
    return "\n".join(lines)


def _utility(name: str, args: list[str]) -> None:
    if name == "tags":
        from anime_gan.data.tags import GROUPS, TAG_INDEX, TAGS

        for group in GROUPS:
            print(f"{group.name}{' (exclusive: exactly one)' if group.exclusive else ''}:")
            for tag in group.tags:
                t = TAGS[TAG_INDEX[tag]]
                print(f"  {TAG_INDEX[tag]:>2}  {tag:<14} i2v {t.i2v_index:>4} ({t.i2v_name})")
    else:  # describe
        if len(args) != 1:
            raise UserError("describe takes one dataset path: anime-gan describe data/demo")
        from anime_gan.data.dataset import load_dataset
        from anime_gan.data.summary import format_summary, summarize

        print(format_summary(summarize(load_dataset(args[0]))))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    try:
        if command in UTILITIES:
            _utility(command, rest)
            return 0
        if command not in STAGES:
            close = difflib.get_close_matches(command, [*STAGES, *UTILITIES], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise UserError(
                f"unknown command {command!r}.{hint} Run `anime-gan --help` for the list."
            )
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    name = "import_images" if command == "import" else command.replace("-", "_")
    module = importlib.import_module(f"anime_gan.cli.{name}")
    # argv[0] is the stage's own file: Hydra names the job after it, and Lightning's DDP launcher
    # re-runs it (`python .../cli/train.py overrides...`) for the other ranks.
    sys.argv = [module.__file__, *rest]
    if sys.modules["__main__"].__spec__ is not None:  # run as `python -m anime_gan.cli.main`
        sys.modules["__main__"].__spec__ = module.__spec__  # so the launcher re-runs that stage
    module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
