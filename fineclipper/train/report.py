"""The run's results as the field reports them, beside the paper's: per experiment, UAR and WAR per fold
(mean and standard deviation over seeds), the mean over folds per seed, then mean and standard deviation
over seeds; each with its coverage of the listed test clips. Supervised experiments beside the paper's
Table 1; caption-pre-trained ones, scored zero-shot on every dataset, beside its Table 3; supervised models
on other datasets apart, as cross-dataset transfer. Writes ``summary.json`` and a self-contained HTML page
(tables, per-class recall, confusion matrices, training curves, preprocessing statistics)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import yaml

from ..io import write_bytes, write_json
from .report_html import TABLE3_DATASETS, pm, render

FIGURES = ("uar", "war", "uar_evaluated", "war_evaluated")


def headline(metrics: dict) -> dict:
    """A run's figures: on a test set of several groups (a zero-shot target's 5 folds) the mean over the
    groups, as the field reports folds; else over its one group. Coverage summed over the groups."""
    figures = metrics.get("mean_over_groups") or metrics
    return {**{k: figures[k] for k in FIGURES}, "listed": metrics["listed"], "evaluated": metrics["evaluated"]}


def run_of(path: str | Path) -> tuple[str, int, str]:
    """(experiment, seed, run) of an output under ``experiments/<name>/seed<k>/{eval,train}/<run>/``."""
    parts = Path(path).parts
    i = parts.index("experiments")
    return parts[i + 1], int(parts[i + 2].removeprefix("seed")), parts[i + 4]


def mean_sd(values: list[float]) -> dict:
    """Mean and sample standard deviation (None with one value)."""
    return {"mean": float(np.mean(values)), "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
            "n": len(values)}


def aggregate_runs(results: dict[tuple[str, int, str], dict]) -> dict:
    """Per experiment: per run (fold) mean +- sd over seeds; per seed the mean over runs; then the
    mean +- sd over seeds of those means; coverage summed over every run and seed."""
    out = {}
    for name in sorted({e for e, _, _ in results}):
        mine = {(s, r): m for (e, s, r), m in results.items() if e == name}
        seeds, runs = sorted({s for s, _ in mine}), sorted({r for _, r in mine})
        per_seed = {s: {k: float(np.mean([mine[s, r][k] for r in runs if (s, r) in mine])) for k in FIGURES}
                    for s in seeds}
        out[name] = {
            "seeds": seeds, "runs": runs,
            "per_run": {r: {**{k: mean_sd([mine[s, r][k] for s in seeds if (s, r) in mine]) for k in FIGURES},
                            "listed": sum(mine[s, r]["listed"] for s in seeds if (s, r) in mine),
                            "evaluated": sum(mine[s, r]["evaluated"] for s in seeds if (s, r) in mine)} for r in runs},
            "per_seed": per_seed,
            "mean": {k: mean_sd([per_seed[s][k] for s in seeds]) for k in FIGURES},
            "listed": sum(m["listed"] for m in mine.values()), "evaluated": sum(m["evaluated"] for m in mine.values()),
        }
    return out


def class_results(metrics: dict[tuple[str, int, str], dict]) -> dict:
    """Per experiment: per-class recall averaged over runs and seeds, and the confusion matrix summed."""
    out = {}
    for name in sorted({e for e, _, _ in metrics}):
        mine = [m for (e, _, _), m in metrics.items() if e == name]
        classes = mine[0]["classes"]
        recall = {c: [m["per_class_recall"][c] for m in mine if m["per_class_recall"][c] is not None] for c in classes}
        confusion = np.sum([m["confusion"] for m in mine], axis=0)
        missing = [sum(m["missing_per_class"][c] for m in mine) for c in classes]
        out[name] = {"classes": classes, "recall": {c: float(np.mean(v)) if v else None for c, v in recall.items()},
                     "confusion": confusion.tolist(), "missing": missing, "model": mine[0].get("model", {})}
    return out


def curves(paths: list[str]) -> dict:
    """Per experiment and (seed, run): the epoch records of ``metrics.jsonl``."""
    out: dict = {}
    for path in paths:
        name, seed, run = run_of(path)
        records = [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
        out.setdefault(name, {})[f"seed{seed}/{run}"] = records
    return out


PAPER_KEYS = ("method", "variant", "backbone", "setting", "train_on", "source", "tunable_params_m")


def paper_rows(paper: str | Path, dataset: str) -> tuple[list[dict], list[dict], dict]:
    """From resources/paper_results.yaml: the published results on this dataset; the rows of Table 3
    (zero-shot: each with its figures per dataset); and the sources."""
    data = yaml.safe_load(Path(paper).read_text())
    rows = [{**{k: r.get(k) for k in PAPER_KEYS}, **r[dataset]}
            for r in data["results"] if isinstance(r.get(dataset), dict) and r.get("setting") != "zero-shot"]
    table3 = [{**{k: r.get(k) for k in (*PAPER_KEYS, "backbone_as_stated", "captions", "pretraining")},
               "on": {d: r[d] for d in TABLE3_DATASETS if isinstance(r.get(d), dict)}}
              for r in data["results"] if r.get("setting") == "zero-shot"]
    return rows, table3, data.get("sources", {})


def other_dataset_of(path: str | Path) -> tuple[str, str]:
    """(protocol, dataset) of an output under ``eval/<run>/<zero_shot|cross_dataset>_<dataset>/``."""
    folder = Path(path).parent.name
    for protocol in ("zero_shot", "cross_dataset"):
        if folder.startswith(protocol + "_"):
            return protocol, folder.removeprefix(protocol + "_")
    raise ValueError(f"{path}: not under eval/<run>/zero_shot_<dataset>/ or eval/<run>/cross_dataset_<dataset>/")


def training_summaries(summaries: list[str]) -> dict[str, dict]:
    """Per experiment: one of its training runs' ``train_summary.json`` (its objective, caption source and
    tunable parameters are the same in every run)."""
    return {run_of(p)[0]: json.loads(Path(p).read_text()) for p in summaries}


def aggregate(dataset: str, metrics: list[str], curve_paths: list[str], other: list[str],
              preprocessing: str, paper: str, summaries: list[str] = ()) -> dict:
    """Everything the report shows, as one JSON-able dict: ``experiments`` (supervised, on this dataset),
    ``zero_shot`` (caption-pre-trained experiments: per experiment its pre-training and its figures on each
    dataset, this one included), ``cross_dataset`` (supervised experiments per other dataset)."""
    loaded = {run_of(p): json.loads(Path(p).read_text()) for p in metrics}
    supervised = {k: headline(m) for k, m in loaded.items() if m.get("protocol", "supervised") == "supervised"}
    on_dataset: dict[str, dict[str, dict]] = {}  # protocol -> dataset -> runs
    for key, m in loaded.items():
        if m.get("protocol") == "zero-shot":
            on_dataset.setdefault("zero_shot", {}).setdefault(dataset, {})[key] = headline(m)
    models = {k[0]: m.get("model", {}) for k, m in loaded.items()}
    for p in other:
        protocol, name = other_dataset_of(p)
        m = json.loads(Path(p).read_text())
        on_dataset.setdefault(protocol, {}).setdefault(name, {})[run_of(Path(p).parent)] = headline(m)
        models.setdefault(run_of(Path(p).parent)[0], m.get("model", {}))
    # from the training summaries: a dataset without labels is pre-trained on but has no metrics of its own
    trained = training_summaries(summaries)
    pretraining = {name: {"dataset": dataset, "captions": t.get("captions"), "model": models.get(name, {})}
                   for name, t in trained.items() if t.get("objective") == "captions"}
    zero_shot = {}
    for name, runs in on_dataset.get("zero_shot", {}).items():
        for experiment, figures in aggregate_runs(runs).items():
            zero_shot.setdefault(experiment, {**pretraining.get(experiment, {}), "on": {}})["on"][name] = figures
    rows, table3, sources = paper_rows(paper, dataset)
    return {
        "dataset": dataset,
        "experiments": aggregate_runs(supervised),
        "classes": class_results(loaded),
        "zero_shot": zero_shot,
        "cross_dataset": {t: aggregate_runs(r) for t, r in sorted(on_dataset.get("cross_dataset", {}).items())},
        "curves": curves(curve_paths),
        "tunable_parameters": {name: t["parameters"]["total_tunable"] for name, t in trained.items()},
        "preprocessing": json.loads(Path(preprocessing).read_text()),
        "paper": rows, "paper_table3": table3, "sources": sources,
    }


def lines(summary: dict) -> list[str]:
    """The summary as text, coverage beside every number."""
    out = []
    sections = [("", summary["experiments"])]
    sections += [(f"zero-shot on {t}, ", {name: z["on"][t]})
                 for name, z in summary["zero_shot"].items() for t in z["on"]]
    sections += [(f"cross-dataset transfer to {t}, ", e) for t, e in summary["cross_dataset"].items()]
    for title, experiments in sections:
        for name, e in experiments.items():
            for run, r in e["per_run"].items():
                out.append(f"{title}{name} {run}: UAR {pm(r['uar'])}  WAR {pm(r['war'])}  "
                           f"({r['evaluated']}/{r['listed']} listed clips evaluated)")
            out.append(f"{title}{name} mean over {len(e['runs'])} run(s), {len(e['seeds'])} seed(s): "
                       f"UAR {pm(e['mean']['uar'])}  WAR {pm(e['mean']['war'])}  "
                       f"({e['evaluated']}/{e['listed']} listed clips evaluated; "
                       f"over the evaluated alone UAR {pm(e['mean']['uar_evaluated'])})")
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--metrics", nargs="*", default=[],
                        help="eval/<run>/metrics.json of every run that tests a group of the dataset")
    parser.add_argument("--curves", nargs="*", default=[], help="train/<run>/metrics.jsonl of every run")
    parser.add_argument("--train-summaries", nargs="*", default=[],
                        help="train/<run>/train_summary.json of every run (the tunable parameters)")
    parser.add_argument("--other", nargs="*", default=[],
                        help="eval/<run>/zero_shot_<dataset>/ and cross_dataset_<dataset>/ metrics.json")
    parser.add_argument("--preprocessing", required=True, help="the dataset's results/<dataset>/summary.json")
    parser.add_argument("--paper", required=True, help="published results (resources/paper_results.yaml)")
    parser.add_argument("--output", required=True, help="summary.json")
    parser.add_argument("--html", required=True, help="report.html")
    args = parser.parse_args(argv)
    summary = aggregate(args.dataset, args.metrics, args.curves, args.other, args.preprocessing, args.paper,
                        args.train_summaries)
    print("\n".join(lines(summary)))
    write_bytes(args.html, render(summary).encode("utf-8"))
    write_json(args.output, summary)


if __name__ == "__main__":
    main()
