"""Aggregate the per-run test metrics: UAR and WAR per fold and their mean, as the field reports them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..io import write_json


def aggregate(metrics: list[str], zero_shot: list[str]) -> dict:
    runs = {Path(m).parent.name: json.loads(Path(m).read_text()) for m in metrics}
    summary = {
        "runs": {name: {"uar": r["uar"], "war": r["war"], "samples": r["samples"]} for name, r in runs.items()},
        "mean_uar": float(np.mean([r["uar"] for r in runs.values()])),
        "mean_war": float(np.mean([r["war"] for r in runs.values()])),
    }
    if zero_shot:
        summary["zero_shot"] = {f"{Path(m).parent.parent.name}/{Path(m).parent.name}": {
            k: json.loads(Path(m).read_text())[k] for k in ("uar", "war", "samples")} for m in zero_shot}
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", nargs="+", required=True)
    parser.add_argument("--zero-shot", nargs="*", default=[])
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    summary = aggregate(args.metrics, args.zero_shot)
    for name, r in summary["runs"].items():
        print(f"{name}: UAR {r['uar']:.4f}  WAR {r['war']:.4f}  ({r['samples']} clips)")
    print(f"mean over {len(summary['runs'])} run(s): UAR {summary['mean_uar']:.4f}  WAR {summary['mean_war']:.4f}")
    write_json(args.output, summary)


if __name__ == "__main__":
    main()
