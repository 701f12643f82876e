"""Tunable parameters of each FineCLIPER variant at ViT-B/16, beside the paper's figures.

    python benchmarks/params.py [--clip-model ViT-B-16]

Builds each variant with random CLIP weights (nothing is downloaded: the count does not depend on them).
"""

from __future__ import annotations

import argparse

from fineclipper.model import VARIANTS, FineCLIPER, ModelConfig

PAPER_M = {"base": 13, "star": 19, "plus": 14, "starplus": 20}  # FineCLIPER, FineCLIPER*, +, *+
DFEW = ["happiness", "sadness", "neutral", "anger", "surprise", "disgust", "fear"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip-model", default="ViT-B-16")
    args = parser.parse_args()
    print(f"{'variant':<10}{'streams':<28}{'text':<7}{'tunable':>12}{'paper':>8}{'ours/paper':>12}")
    for variant in VARIANTS:
        model = FineCLIPER(ModelConfig(clip_model=args.clip_model, pretrained=None, variant=variant), DFEW)
        counts = model.count_parameters()
        n = counts["total_tunable"]
        print(f"{variant:<10}{'+'.join(model.cfg.streams):<28}{'yes' if model.cfg.descriptions else 'no':<7}"
              f"{n / 1e6:>11.2f}M{PAPER_M[variant]:>7}M{n / 1e6 / PAPER_M[variant]:>12.2f}")
        if variant == "starplus":
            parts = ", ".join(f"{k} {v / 1e6:.2f}M" for k, v in counts.items() if k not in ("total_tunable", "frozen_clip"))
            print(f"  full variant by part: {parts}; frozen CLIP {counts['frozen_clip'] / 1e6:.1f}M")


if __name__ == "__main__":
    main()
