"""Aggregate the per-run test metrics as the field reports them: UAR and WAR per fold and their mean over
folds, each beside its coverage of the listed test clips; zero-shot results per target dataset."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..io import write_json

FIGURES = ("uar", "war", "uar_evaluated", "war_evaluated")


def headline(metrics: dict) -> dict:
    """A run's figures: on a test set of several groups (a zero-shot target's 5 folds) the mean over the
    groups, as the field reports folds; else over its one group. Coverage summed over the groups."""
    figures = metrics.get("mean_over_groups") or metrics
    return {**{k: figures[k] for k in FIGURES}, "listed": metrics["listed"], "evaluated": metrics["evaluated"]}


def mean_of(runs: dict) -> dict:
    return {**{k: float(np.mean([r[k] for r in runs.values()])) for k in FIGURES},
            "listed": sum(r["listed"] for r in runs.values()), "evaluated": sum(r["evaluated"] for r in runs.values())}


def aggregate(metrics: list[str], zero_shot: list[str]) -> dict:
    runs = {Path(m).parent.name: headline(json.loads(Path(m).read_text())) for m in metrics}
    summary = {"runs": runs, "mean": mean_of(runs)}
    targets: dict[str, dict] = {}
    for m in zero_shot:
        path = Path(m)
        target = path.parent.name.removeprefix("zero_shot_")
        targets.setdefault(target, {})[path.parent.parent.name] = headline(json.loads(path.read_text()))
    if targets:
        summary["zero_shot"] = {t: {"runs": r, "mean": mean_of(r)} for t, r in sorted(targets.items())}
    return summary


def line(name: str, r: dict) -> str:
    return (f"{name}: UAR {r['uar']:.4f}  WAR {r['war']:.4f}  ({r['evaluated']}/{r['listed']} listed clips evaluated;"
            f" over the evaluated clips alone UAR {r['uar_evaluated']:.4f}  WAR {r['war_evaluated']:.4f})")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", nargs="+", required=True)
    parser.add_argument("--zero-shot", nargs="*", default=[])
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    summary = aggregate(args.metrics, args.zero_shot)
    lines = [line(name, r) for name, r in summary["runs"].items()]
    lines.append(line(f"mean over {len(summary['runs'])} run(s)", summary["mean"]))
    for target, result in summary.get("zero_shot", {}).items():
        lines += [line(f"zero-shot on {target}, {name}", r) for name, r in result["runs"].items()]
        lines.append(line(f"zero-shot on {target}, mean", result["mean"]))
    print("\n".join(lines))
    write_json(args.output, summary)


if __name__ == "__main__":
    main()
