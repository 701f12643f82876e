"""Tunable parameters of each FineCLIPER variant at ViT-B/16, part by part, beside the paper's figures.

    python benchmarks/params.py [--clip-model ViT-B-16]

Builds each variant with the default ModelConfig and random CLIP weights (nothing is downloaded: the
count does not depend on them). Parts: ``visual.<stream>.spatial`` (AIM's spatial and MLP adapters),
``visual.<stream>.temporal`` (T-Adapters and temporal embedding), the temporal transformer of each
stream, the positive and negative label-prompt adapters, the description adapters, the stream fusion,
and ``other`` (learnable context, logit scales, description gate).
"""

from __future__ import annotations

import argparse

from fineclipper.model import PAPER_TUNABLE_M, STREAMS, VARIANTS, FineCLIPER, ModelConfig

DFEW = ["happiness", "sadness", "neutral", "anger", "surprise", "disgust", "fear"]
PART_ORDER = ([f"visual.{s}.{kind}" for s in STREAMS for kind in ("spatial", "temporal")]
              + [f"temporal_transformer.{s}" for s in STREAMS]
              + ["text.positive", "text.negative", "description", "fusion", "other"])
#: The paper's increments: the middle-level streams (parsing + landmarks) and the descriptions, in millions.
PAPER_INCREMENTS_M = {"middle-level streams (star - base)": ("star", "base", 6),
                      "middle-level streams (starplus - plus)": ("starplus", "plus", 6),
                      "descriptions (plus - base)": ("plus", "base", 1),
                      "descriptions (starplus - star)": ("starplus", "star", 1)}


def variant_counts(clip_model: str) -> dict[str, dict[str, int]]:
    """Per variant, its ``FineCLIPER.count_parameters()`` (parts, ``total_tunable``, ``frozen_clip``)."""
    return {variant: FineCLIPER(ModelConfig(clip_model=clip_model, pretrained=None, variant=variant),
                                DFEW).count_parameters()
            for variant in VARIANTS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip-model", default="ViT-B-16")
    args = parser.parse_args()
    counts = variant_counts(args.clip_model)
    parts = {k for c in counts.values() for k in c} - {"total_tunable", "frozen_clip"}
    rows = [p for p in PART_ORDER if p in parts] + sorted(parts - set(PART_ORDER))

    def millions(n: float) -> str:
        return f"{n / 1e6:>10.2f}"

    print(f"tunable parameters (M) of each variant by part, {args.clip_model}, default ModelConfig")
    print(f"{'part':<32}" + "".join(f"{v:>10}" for v in VARIANTS))
    for part in rows:
        print(f"{part:<32}" + "".join(millions(c[part]) if part in c else f"{'-':>10}" for c in counts.values()))
    print(f"{'total':<32}" + "".join(millions(c["total_tunable"]) for c in counts.values()))
    print(f"{'paper':<32}" + "".join(f"{PAPER_TUNABLE_M[v]:>10.2f}" for v in VARIANTS))
    print(f"{'ours/paper':<32}" + "".join(f"{c['total_tunable'] / 1e6 / PAPER_TUNABLE_M[v]:>10.2f}"
                                          for v, c in counts.items()))
    print(f"\n{'increment':<40}{'ours':>10}{'paper':>10}")
    for name, (variant, reference, paper) in PAPER_INCREMENTS_M.items():
        ours = counts[variant]["total_tunable"] - counts[reference]["total_tunable"]
        print(f"{name:<40}{millions(ours)}{paper:>10.2f}")
    print(f"\nfrozen CLIP: {counts['base']['frozen_clip'] / 1e6:.1f}M")


if __name__ == "__main__":
    main()
