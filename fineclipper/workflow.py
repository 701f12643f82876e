"""What the Snakefile works out when it is parsed: every dataset of the run, its chunks and its test runs.

The run's own dataset comes from the config; each ``train.zero_shot`` (a caption-pre-trained model) or
``train.cross_dataset`` (a supervised one) entry of an experiment adds another dataset, with its own config
file, whose shards the same workflow builds (under this run's output folders) and whose test groups the
trained model is evaluated on.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .config import dataset_config_path, load_config, merge, validate_config
from .datasets import AnnotationError, build_manifest, class_names, plan_chunks, plan_runs
from .errors import ConfigError
from .io import write_json_if_changed
from .paths import chunk_captions, chunk_manifest
from .video import uniform_indices

OUTPUT_ROOTS = ("results", "shards", "logs")


@dataclass
class DatasetPlan:
    """One dataset of the run: its validated config, class names and chunks (chunk id -> manifest rows)."""

    config: dict
    classes: list[str]
    chunks: dict[str, list[dict]]
    runs: dict[str, list[str]] = field(default_factory=dict)  # run name -> test groups; empty: nothing tested
    #: chunk id -> {clip id: caption or None}: the dataset's own captions; None when it has none
    captions: dict[str, dict[str, str | None]] | None = None

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
            write_json_if_changed(chunk_manifest(self.config["results"], self.name, chunk),
                                  {"chunk": chunk, "classes": self.classes, "rows": rows})
            if self.captions is not None:  # apart from the manifest: new captions rerun pack alone
                write_json_if_changed(self.captions_path(chunk), {"chunk": chunk, "captions": self.captions[chunk]})

    def captions_path(self, chunk: str) -> str:
        """Where a chunk's own captions are written (pack reads them)."""
        return chunk_captions(self.config["results"], self.name, chunk)


#: How many of a dataset's sources :func:`check_sources` looks for, spread over its list.
SOURCE_SAMPLE = 20


def check_sources(plan: DatasetPlan) -> None:
    """That a dataset's sources are where its config says, before a job reads them: a ``dataset.root`` that
    does not exist, or one under which none of a sample of the listed sources exists, is a
    :class:`ConfigError` naming the root and a path looked for; some of the sample missing is a warning
    (stderr), and their clips fail. The demo's videos are made by a rule: it has nothing to check."""
    if plan.format == "demo":
        return
    rows = [row for members in plan.chunks.values() for row in members]
    sample = [rows[i]["source"] for i in uniform_indices(len(rows), SOURCE_SAMPLE)]
    missing = [source for source in sample if not Path(source).exists()]
    root = plan.config["dataset"].get("root")
    under = (f"dataset.root {root}" if root else
             f"{Path(plan.config['dataset']['annotations']).parent} (dataset.root unset: the table's folder)")
    fix = f"set dataset.root to your copy of {plan.name}'s data"
    if root and not Path(root).is_dir():
        raise ConfigError(f"dataset {plan.name}: dataset.root {root} is not a folder (looked for e.g. "
                          f"{missing[0] if missing else root}); {fix}")
    if sample and len(missing) == len(sample):
        raise ConfigError(f"dataset {plan.name}: none of {len(sample)} sources looked for exists under {under} "
                          f"(e.g. {missing[0]}); {fix}")
    if missing:
        print(f"warning: dataset {plan.name}: {len(missing)} of {len(sample)} sources looked for are missing "
              f"(e.g. {missing[0]}); their clips will fail", file=sys.stderr)


#: How a trained model is scored on another dataset's test clips, by its training objective: a
#: caption-pre-trained model, which read no label, is zero-shot (the paper's Table 3); a supervised one is
#: cross-dataset transfer.
OTHER_DATASET_PROTOCOL = {"captions": "zero_shot", "labels": "cross_dataset"}


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

    @property
    def protocol(self) -> str:
        """``zero_shot`` or ``cross_dataset``: how it is scored on other datasets (and names those outputs)."""
        return OTHER_DATASET_PROTOCOL[self.train["objective"]]

    @property
    def other_datasets(self) -> list[str]:
        """The other datasets (config references) whose test clips it is scored on."""
        return self.train[self.protocol]


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


#: The one run of an unlabelled dataset that is only pre-trained on (captions): every group, nothing tested.
PRETRAIN_ONLY_RUN = "all"


def plan_dataset(config: dict, tested: bool, pretrain_only: bool = False) -> DatasetPlan:
    """The manifest and chunk plan of a validated config; ``tested``: work out its test runs too (a dataset
    without labels cannot be tested: with ``pretrain_only``, every experiment pre-training on captions, it
    gets one run, :data:`PRETRAIN_ONLY_RUN`, on every group and scored on other datasets only)."""
    rows = build_manifest(config)
    chunks = plan_chunks(rows, config["chunk_size"], config["chunk_seed"], config["dataset"]["limit_per_group"])
    captions = None
    if any("caption" in row for row in rows):
        captions = {chunk: {row["id"]: row.pop("caption", None) for row in members}
                    for chunk, members in chunks.items()}
    plan = DatasetPlan(config, class_names(config["dataset"], config["demo"]), chunks, captions=captions)
    if tested and not plan.labelled and pretrain_only:
        plan.runs = {PRETRAIN_ONLY_RUN: []}
        return plan
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
    """Everything a run works on: its dataset, the other datasets its experiments are scored on (name ->
    plan), the experiments, and each experiment's other datasets by name (experiment name -> names)."""

    primary: DatasetPlan
    others: dict[str, DatasetPlan]
    experiments: list[Experiment]
    other_names: dict[str, list[str]] = field(default_factory=dict)


def check_captions(experiment: Experiment, primary: DatasetPlan) -> None:
    """Caption pre-training on the dataset's own captions needs a dataset that has them."""
    if experiment.train["objective"] == "captions" and experiment.train["captions"] == "dataset" \
            and primary.captions is None:
        raise ConfigError(f"experiment {experiment.name}: train.captions: dataset needs {primary.name}'s own captions: "
                          "set dataset.captions to MAFW's caption lists (Train_Test_Set), or give a table dataset a "
                          "caption column; or use train.captions: describe (the describe stage's text)")


def plan_workflow(config: dict) -> RunPlan:
    """The run's dataset, the other datasets its experiments are scored on and its experiments, every one
    checked and planned."""
    if not config["train"]["enabled"]:
        return RunPlan(plan_dataset(config, tested=False), {}, [])
    experiments = plan_experiments(config)
    primary = plan_dataset(config, tested=True,
                           pretrain_only=all(e.train["objective"] == "captions" for e in experiments))
    roots = {k: config[k] for k in OUTPUT_ROOTS}  # other datasets are built under this run's output folders
    others: dict[str, DatasetPlan] = {}
    by_ref: dict[str, str] = {}
    other_names: dict[str, list[str]] = {}
    for experiment in experiments:
        check_captions(experiment, primary)
        names = []
        for ref in experiment.other_datasets:
            if ref not in by_ref:
                other = plan_dataset(load_config(dataset_config_path(ref), overrides=roots), tested=True)
                if other.name == primary.name:
                    raise AnnotationError(f"train.{experiment.protocol}: {ref!r} is {primary.name}, the dataset "
                                          "trained on: its test clips are scored by the experiment's own evaluation")
                if other.name in others and others[other.name].config != other.config:
                    raise AnnotationError(f"train.{experiment.protocol}: {ref!r} names dataset {other.name!r} with "
                                          "another config than an earlier entry")
                others.setdefault(other.name, other)
                by_ref[ref] = other.name
            names.append(by_ref[ref])
        if len(set(names)) != len(names):
            raise AnnotationError(f"experiment {experiment.name}: train.{experiment.protocol} names a dataset twice: "
                                  f"{experiment.other_datasets}")
        other_names[experiment.name] = names
    return RunPlan(primary, others, experiments, other_names)
