"""Tunable parameters of each FineCLIPER variant, part by part, at each backbone, beside the paper's printed
counts: Table 1 (every variant at ViT-B/16) and Table 8 (FineCLIPER*† at ViT-B/32, ViT-B/16, ViT-L/14).

    python benchmarks/params.py [--clip-model ViT-B-32 ViT-B-16 ViT-L-14]

Builds each variant with the default ModelConfig and random CLIP weights (nothing is downloaded: the
count does not depend on them). Parts: ``visual.<stream>.spatial`` (AIM's spatial and MLP adapters),
``visual.<stream>.temporal`` (T-Adapters and temporal embedding), the temporal transformer of each
stream, the positive and negative label-prompt adapters, the description adapters, the stream fusion,
and ``other`` (learnable context, logit scales, description gate). The paper's counts come from
resources/paper_results.yaml (``fineclipper.model.params.tunable_rows``, which the report can show too).
"""

from __future__ import annotations

import argparse

from fineclipper.model import STREAMS, VARIANTS
from fineclipper.model.params import tunable_counts, tunable_rows

PAPER_BACKBONES = ["ViT-B-32", "ViT-B-16", "ViT-L-14"]
PART_ORDER = ([f"visual.{s}.{kind}" for s in STREAMS for kind in ("spatial", "temporal")]
              + [f"temporal_transformer.{s}" for s in STREAMS]
              + ["text.positive", "text.negative", "description", "fusion", "other"])
#: The paper's increments at ViT-B/16 (Table 1): the middle-level streams (parsing + landmarks) and the
#: descriptions, in millions.
PAPER_INCREMENTS_M = {"middle-level streams (star - base)": ("star", "base", 6),
                      "middle-level streams (starplus - plus)": ("starplus", "plus", 6),
                      "descriptions (plus - base)": ("plus", "base", 1),
                      "descriptions (starplus - star)": ("starplus", "star", 1)}


def millions(n: float) -> str:
    return f"{n / 1e6:>10.2f}"


def print_backbone(clip_model: str) -> None:
    """The per-part table of every variant at one backbone, with the paper's totals where it prints them."""
    counts = {variant: tunable_counts(clip_model, variant) for variant in VARIANTS}
    paper = {row["variant"]: row for row in tunable_rows((clip_model,))}
    parts = {k for c in counts.values() for k in c} - {"total_tunable", "frozen_clip"}
    rows = [p for p in PART_ORDER if p in parts] + sorted(parts - set(PART_ORDER))
    print(f"tunable parameters (M) of each variant by part, {clip_model}, default ModelConfig")
    print(f"{'part':<32}" + "".join(f"{v:>10}" for v in VARIANTS))
    for part in rows:
        print(f"{part:<32}" + "".join(millions(c[part]) if part in c else f"{'-':>10}" for c in counts.values()))
    print(f"{'total':<32}" + "".join(millions(c["total_tunable"]) for c in counts.values()))
    print(f"{'paper':<32}" + "".join(f"{paper[v]['paper_m']:>10.2f}" if v in paper else f"{'-':>10}"
                                     for v in VARIANTS))
    print(f"{'ours/paper':<32}" + "".join(f"{paper[v]['ratio']:>10.2f}" if v in paper else f"{'-':>10}"
                                          for v in VARIANTS))
    print(f"{'paper table':<32}" + "".join(f"{paper[v]['where']:>10}" if v in paper else f"{'-':>10}"
                                           for v in VARIANTS))
    print(f"\n{'increment':<40}{'ours':>10}{'paper (Table 1, ViT-B/16)':>28}")
    for name, (variant, reference, paper_m) in PAPER_INCREMENTS_M.items():
        ours = counts[variant]["total_tunable"] - counts[reference]["total_tunable"]
        print(f"{name:<40}{millions(ours)}{paper_m:>28.2f}")
    print(f"\nfrozen CLIP: {counts['base']['frozen_clip'] / 1e6:.1f}M\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip-model", "--clip-models", dest="clip_models", nargs="+", default=PAPER_BACKBONES,
                        help="open_clip model names (default: the paper's three backbones)")
    args = parser.parse_args()
    for clip_model in args.clip_models:
        print_backbone(clip_model)


if __name__ == "__main__":
    main()
