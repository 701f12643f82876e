"""What the Snakefile works out when it is parsed: every dataset of the run, its chunks and its test runs.

The run's own dataset comes from the config; each ``train.zero_shot`` entry adds another dataset, with its
own config file, whose shards the same workflow builds (under this run's output folders) and whose test
groups the trained model is evaluated on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import dataset_config_path, load_config, merge, validate_config
from .datasets import AnnotationError, build_manifest, class_names, plan_chunks, plan_runs
from .errors import ConfigError
from .io import write_json_if_changed

OUTPUT_ROOTS = ("results", "shards", "logs")


@dataclass
class DatasetPlan:
    """One dataset of the run: its validated config, class names and chunks (chunk id -> manifest rows)."""

    config: dict
    classes: list[str]
    chunks: dict[str, list[dict]]
    runs: dict[str, list[str]] = field(default_factory=dict)  # run name -> test groups; empty: nothing tested

    @property
    def name(self) -> str:
        return self.config["dataset"]["name"]

    @property
    def format(self) -> str:
        return self.config["dataset"]["format"]

    @property
    def labelled(self) -> bool:
        return all(row["label"] is not None for rows in self.chunks.values() for row in rows)

    @property
    def groups(self) -> list[str]:
        return sorted({chunk.rsplit("-", 1)[0] for chunk in self.chunks})

    @property
    def test_groups(self) -> list[str]:
        return sorted({g for groups in self.runs.values() for g in groups})

    def chunks_in(self, groups) -> list[str]:
        """Chunk ids of these groups, in plan order."""
        return [c for c in self.chunks if c.rsplit("-", 1)[0] in set(groups)]

    def write_chunk_manifests(self) -> None:
        """One JSON per chunk (its rows and the dataset's class names), rewritten only when it changes: an
        unchanged plan leaves every mtime alone, and a changed chunk reruns just that chunk."""
        for chunk, rows in self.chunks.items():
            write_json_if_changed(f"{self.config['results']}/{self.name}/chunks/{chunk}.json",
                                  {"chunk": chunk, "classes": self.classes, "rows": rows})


@dataclass(frozen=True)
class Experiment:
    """One training setting of the run, trained on every test group: its name, seed and train section."""

    name: str
    seed: int
    train: dict

    @property
    def path(self) -> str:
        """Where its outputs live below results/<dataset>/experiments/."""
        return f"{self.name}/seed{self.seed}"


def plan_experiments(config: dict) -> list[Experiment]:
    """The run's experiments (config ``experiments``, ``select_experiments``), each with its own merged and
    checked train section; none configured: ``main``, the train section as it is."""
    entries = config["experiments"] or [{"name": "main"}]
    names = [e["name"] for e in entries]
    if len(set(names)) != len(names):
        raise ValueError(f"experiments: names must differ, got {names}")
    selected = config["select_experiments"]
    unknown = sorted(set(selected or ()) - set(names))
    if unknown:
        raise ValueError(f"select_experiments: {unknown} are not experiments (they are {names})")
    experiments = []
    for entry in entries:
        if selected is not None and entry["name"] not in selected:
            continue
        model = {k: entry[key]
                 for key, k in (("variant", "variant"), ("backbone", "clip_model"), ("pretrained", "pretrained"))
                 if key in entry}
        train = merge(config["train"], merge(entry.get("train", {}), {"model": model}))
        for seed in entry.get("seeds", [train["seed"]]):
            checked = validate_config({**config, "train": {**train, "seed": seed}})["train"]
            experiments.append(Experiment(entry["name"], seed, checked))
    return experiments


def plan_dataset(config: dict, tested: bool) -> DatasetPlan:
    """The manifest and chunk plan of a validated config; ``tested``: work out its test runs too (a dataset
    without labels cannot be tested)."""
    rows = build_manifest(config)
    plan = DatasetPlan(config, class_names(config["dataset"], config["demo"]),
                       plan_chunks(rows, config["chunk_size"], config["chunk_seed"],
                                   config["dataset"]["limit_per_group"]))
    if tested and not plan.labelled:
        raise ConfigError(f"dataset {plan.name} has no labels: it cannot be trained on or tested (train.enabled: "
                          "false); write a trained model's predictions for it with the predict target and "
                          "predict.checkpoint")
    if tested:
        plan.runs = plan_runs(plan.groups, config["dataset"]["test_groups"],
                              f"dataset.test_groups of {plan.name}")
    return plan


@dataclass
class RunPlan:
    """Everything a run works on: its dataset, the zero-shot targets (name -> plan), the experiments."""

    primary: DatasetPlan
    zero_shot: dict[str, DatasetPlan]
    experiments: list[Experiment]


def plan_workflow(config: dict) -> RunPlan:
    """The run's dataset, its zero-shot targets and its experiments, every one checked and planned."""
    primary = plan_dataset(config, tested=config["train"]["enabled"])
    if not config["train"]["enabled"]:
        return RunPlan(primary, {}, [])
    targets: dict[str, DatasetPlan] = {}
    for ref in config["train"]["zero_shot"]:
        roots = {k: config[k] for k in OUTPUT_ROOTS}  # built under this run's output folders
        target = plan_dataset(load_config(dataset_config_path(ref), overrides=roots), tested=True)
        if target.name == primary.name or target.name in targets:
            raise AnnotationError(f"train.zero_shot: {ref!r} names dataset {target.name!r} twice (a zero-shot "
                                  "target must be another dataset than the one trained on)")
        targets[target.name] = target
    return RunPlan(primary, targets, plan_experiments(config))
