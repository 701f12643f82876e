"""Our tunable-parameter counts beside the paper's printed ones: Table 1 (each variant at ViT-B/16) and
Table 8 (FineCLIPER*† at ViT-B/32 and ViT-L/14), as resources/paper_results.yaml records them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from ..shipped import shipped_path
from .config import ModelConfig

PAPER_RESULTS = shipped_path("resources/paper_results.yaml")


def paper_tunable_counts(paper: str | Path = PAPER_RESULTS) -> list[dict]:
    """The paper's tunable-parameter counts: each of FineCLIPER's result rows that prints one, as
    ``{where, variant, backbone, paper_m}`` (millions)."""
    results = yaml.safe_load(Path(paper).read_text())["results"]
    return [{"where": r["where"], "variant": r["variant"], "backbone": r["backbone"], "paper_m": r["tunable_params_m"]}
            for r in results if r.get("source") == "finecliper" and "tunable_params_m" in r]


@cache
def tunable_counts(clip_model: str, variant: str) -> dict[str, int]:
    """``FineCLIPER.count_parameters()`` of a variant with the default ModelConfig at a backbone, built with
    random CLIP weights (nothing is downloaded; the count does not depend on the weights)."""
    from .fineclipper import FineCLIPER

    return FineCLIPER(ModelConfig(clip_model=clip_model, pretrained=None, variant=variant), ["a", "b"]
                      ).count_parameters()


def tunable_rows(backbones: tuple[str, ...] | None = None, paper: str | Path = PAPER_RESULTS) -> list[dict]:
    """Ours beside the paper for every count the paper prints (on ``backbones`` only, if given): its row
    plus ``ours_m`` (our default ModelConfig's tunable parameters, millions) and ``ratio`` (ours / paper)."""
    rows = []
    for row in paper_tunable_counts(paper):
        if backbones is None or row["backbone"] in backbones:
            ours_m = tunable_counts(row["backbone"], row["variant"])["total_tunable"] / 1e6
            rows.append({**row, "ours_m": ours_m, "ratio": ours_m / row["paper_m"]})
    return rows
