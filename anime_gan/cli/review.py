"""``anime-gan review``: numbered contact sheets of the crops and the reject list;
config conf/review.yaml."""

from omegaconf import DictConfig

from anime_gan.cli._hydra import stage
from anime_gan.faces.review import write_review


@stage("review")
def main(cfg: DictConfig) -> None:
    """(Re)write the sheets and say how to mark rejects."""
    result = write_review(
        cfg.faces,
        cfg.out,
        per_sheet=cfg.per_sheet,
        ncol=cfg.ncol,
        cell=cfg.cell,
        rejected_sheets=cfg.rejected_sheets,
    )
    sheets = result.sheets
    where = f"{sheets[0]}" + (f" ... {sheets[-1].name}" if len(sheets) > 1 else "")
    print(f"{result.crops} crops on {len(sheets)} contact sheets: {where}")
    print(
        f"mark false positives in {result.rejects}: one crop number (17), range (120-125) or id "
        f"per line, # for comments; `make review` again crosses them out, `make dataset` leaves "
        f"them out."
    )
    seen = result.rejected_sheets
    print(
        f"rejected now: {result.rejected}"
        + (f" (see {seen[0].parent}/rejected_*.png)" if seen else "")
    )
    if result.unknown_rejects:
        print(
            f"warning: {len(result.unknown_rejects)} entries of {result.rejects.name} match no "
            f"crop: {', '.join(result.unknown_rejects[:10])}"
        )
