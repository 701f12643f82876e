"""What the Snakefile works out when it is parsed: every dataset of the run, its chunks and its test runs.

The run's own dataset comes from the config; each ``train.zero_shot`` entry adds another dataset, with its
own config file, whose shards the same workflow builds (under this run's output folders) and whose test
groups the trained model is evaluated on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import dataset_config_path, load_config
from .datasets import AnnotationError, build_manifest, class_names, plan_chunks, plan_runs
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
    def groups(self) -> list[str]:
        return sorted({chunk.rsplit("-", 1)[0] for chunk in self.chunks})

    @property
    def test_groups(self) -> list[str]:
        return sorted({g for groups in self.runs.values() for g in groups})

    def chunks_in(self, groups) -> list[str]:
        """Chunk ids of these groups, in plan order."""
        return [c for c in self.chunks if c.rsplit("-", 1)[0] in set(groups)]

    def write_chunk_manifests(self) -> None:
        """One JSON per chunk, rewritten only when its rows change: an unchanged plan leaves every mtime
        alone, and a changed chunk reruns just that chunk."""
        for chunk, rows in self.chunks.items():
            write_json_if_changed(f"{self.config['results']}/{self.name}/chunks/{chunk}.json", {"chunk": chunk, "rows": rows})


def plan_dataset(config: dict, tested: bool) -> DatasetPlan:
    """The manifest and chunk plan of a validated config; ``tested``: work out its test runs too."""
    rows = build_manifest(config)
    plan = DatasetPlan(config, class_names(config["dataset"], config["demo"]),
                       plan_chunks(rows, config["chunk_size"], config["chunk_seed"]))
    if tested:
        plan.runs = plan_runs(plan.groups, config["dataset"]["test_groups"],
                              f"dataset.test_groups of {plan.name}")
    return plan


def plan_workflow(config: dict) -> tuple[DatasetPlan, dict[str, DatasetPlan]]:
    """The run's dataset and its zero-shot targets (name -> plan), every one checked and planned."""
    primary = plan_dataset(config, tested=config["train"]["enabled"])
    targets: dict[str, DatasetPlan] = {}
    if not config["train"]["enabled"]:
        return primary, targets
    for ref in config["train"]["zero_shot"]:
        roots = {k: config[k] for k in OUTPUT_ROOTS}  # built under this run's output folders
        target = plan_dataset(load_config(dataset_config_path(ref), overrides=roots), tested=True)
        if target.name == primary.name or target.name in targets:
            raise AnnotationError(f"train.zero_shot: {ref!r} names dataset {target.name!r} twice (a zero-shot "
                                  "target must be another dataset than the one trained on)")
        targets[target.name] = target
    return primary, targets
