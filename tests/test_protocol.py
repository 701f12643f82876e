"""The evaluation protocol and the run's plan: class-mixed shards on the real lists, dataset configs that
stand alone, test groups, coverage of listed clips, classes matched by name."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from helpers import snakemake

from fineclipper import REPO_ROOT
from fineclipper.config import load_config
from fineclipper.datasets import SHIPPED_ANNOTATIONS, AnnotationError, annotations_folder, plan_runs
from fineclipper.datasets.captions import MAFW_CAPTION_LISTS, write_mafw_caption_list
from fineclipper.datasets.classes import match_by_name
from fineclipper.datasets.foldlists import SPECS, read_fold_lists
from fineclipper.datasets.manifest import plan_chunks
from fineclipper.train.metrics import MISSING, coverage_scores
from fineclipper.workflow import plan_experiments


@pytest.mark.parametrize("dataset", ["mafw", "ferv39k", "dfew"])
def test_every_shard_holds_the_class_mix_of_its_group(annotations, dataset):
    """Lists sorted by class, chunked in list order, gave MAFW shards 79% one class on average; the
    stratified order keeps each shard's largest class within 10 points of its share of the group."""
    rows, _ = read_fold_lists(SPECS[dataset], annotations, "/data")
    chunks = plan_chunks(rows, 250)
    for chunk, members in chunks.items():
        group = [r["label"] for r in rows if r["group"] == members[0]["group"]]
        label, count = Counter(r["label"] for r in members).most_common(1)[0]
        assert abs(count / len(members) - group.count(label) / len(group)) <= 0.10, chunk
    assert sorted(r["id"] for c in chunks.values() for r in c) == sorted(r["id"] for r in rows)
    assert plan_chunks(list(reversed(rows)), 250) == chunks  # seeded and stable: list order does not matter


def test_the_fold_lists_ship_with_the_project(monkeypatch, tmp_path):
    assert annotations_folder(None) == SHIPPED_ANNOTATIONS and (SHIPPED_ANNOTATIONS / "LICENSE").is_file()
    monkeypatch.chdir(tmp_path)  # a working directory elsewhere: the configs' relative path still finds them
    assert annotations_folder("resources/annotations/dfer-clip") == REPO_ROOT / "resources/annotations/dfer-clip"
    monkeypatch.setenv("FINECLIPER_ANNOTATIONS", str(tmp_path))
    assert annotations_folder("resources/annotations/dfer-clip") == tmp_path


def configfiles(dataset: str, workdir: Path) -> list[Path]:
    """A dataset's config file; for MAFW with an overlay naming stand-in caption lists (MAFW's own come with
    the dataset), made from the shipped fold lists."""
    files = [REPO_ROOT / "config" / f"{dataset}.yaml"]
    if dataset == "mafw":
        rows, _ = read_fold_lists(SPECS["mafw"], SHIPPED_ANNOTATIONS, "/data")
        folder = workdir / "mafw-captions"
        write_mafw_caption_list(folder / MAFW_CAPTION_LISTS[0],
                                [(f"{r['id']}.mp4", [r["label_name"]], "A face.") for r in rows])
        (workdir / "mafw-captions.yaml").write_text(yaml.safe_dump({"dataset": {"captions": str(folder)}}))
        files.append(workdir / "mafw-captions.yaml")
    return files


def dry_run_commands(workdir: Path, configs: list[Path], *args: str) -> list[str]:
    """The shell commands a dry run of `all` plans for these config files."""
    return snakemake(workdir, "-n", "-p", "--cores", "2", "all", *args, configs=configs).stdout.splitlines()


def dry_run_train_configs(workdir: Path, configs: list[Path], *args: str) -> list[dict]:
    """The train sections a dry run passes to the `train` jobs of these config files."""
    commands = [line for line in dry_run_commands(workdir, configs, *args) if "fineclipper.train.main" in line]
    return [json.loads(c.split("--config '", 1)[1].split("' --preprocessing", 1)[0]) for c in commands]


def canonical(train: dict) -> str:
    return json.dumps({k: v for k, v in train.items() if k not in ("enabled", "zero_shot", "cross_dataset")},
                      sort_keys=True)


@pytest.mark.e2e
@pytest.mark.parametrize("dataset, folds", [("dfew", 5), ("ferv39k", 1), ("mafw", 5)])
def test_dataset_runs_get_their_own_settings_not_the_demos(tmp_path, dataset, folds):
    """Every train job gets the schema's defaults plus the dataset's file plus its experiment, nothing of the demo."""
    configs = configfiles(dataset, tmp_path)
    config = load_config(*configs)
    experiments = plan_experiments(config)
    passed = dry_run_train_configs(tmp_path, configs)
    assert sorted(canonical(p) for p in passed) == sorted(canonical(e.train) for e in experiments for _ in range(folds))
    assert {e.name for e in experiments} >= {"base-b16", "star-b16", "plus-b16", "starplus-b16"}
    assert len({e.seed for e in experiments}) >= 3  # seeds: at least three by default
    demo = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())["train"]
    for p in passed:
        assert p["model"]["clip_model"].startswith("ViT-") and p["augment"] != demo["augment"]
        assert "visual_adapter_ratio" not in p["model"] and p["epochs"] == config["train"]["epochs"]
    assert config["frames"]["crop"] == "none" and config["frames"]["max_frames"] >= 16


@pytest.mark.e2e
def test_the_demo_runs_without_a_configfile(tmp_path):
    """No --configfile: the one train job planned is the built-in demo's (config/config.yaml)."""
    (passed,) = dry_run_train_configs(tmp_path, [])
    (experiment,) = plan_experiments(load_config(REPO_ROOT / "config" / "config.yaml"))
    assert canonical(passed) == canonical(experiment.train)
    assert passed["model"]["clip_model"] == "FC-Tiny" and passed["epochs"] == 40


@pytest.mark.e2e
def test_experiments_expand_and_a_subset_is_selected(tmp_path):
    configs = configfiles("mafw", tmp_path)
    passed = dry_run_train_configs(tmp_path, configs, "--config", 'select_experiments=["plus-b16"]')
    assert len(passed) == 3 * 5 and {p["model"]["variant"] for p in passed} == {"plus"}
    assert sorted({p["seed"] for p in passed}) == [0, 1, 2]
    with pytest.raises(ValueError, match=r"select_experiments: \['nope'\] are not experiments"):
        plan_experiments(load_config(*configs, overrides={"select_experiments": ["nope"]}))
    with pytest.raises(ValueError, match="train.model: unknown key"):
        plan_experiments(load_config(overrides={"experiments": [{"name": "x", "train": {"model": {"ratio": 1}}}]}))


def test_test_groups():
    assert plan_runs(["fold1", "fold2", "notest"], None) == {"fold1": ["fold1"], "fold2": ["fold2"]}
    assert plan_runs(["train", "test"], None) == {"test": ["test"]}
    assert plan_runs(["a", "b", "heldout"], ["heldout"]) == {"heldout": ["heldout"]}
    with pytest.raises(AnnotationError, match=r"none is 'test' or 'foldN'; set dataset.test_groups"):
        plan_runs(["a", "b"], None)
    with pytest.raises(AnnotationError, match=r"\['c'\] are not groups"):
        plan_runs(["a", "b"], ["c"])


def test_too_few_stored_frames_for_the_model_is_rejected():
    with pytest.raises(ValueError, match=r"frames.max_frames \(8\) is below train.model.num_frames \(16\)"):
        load_config(overrides={"frames": {"max_frames": 8}})
    with pytest.raises(ValueError, match=r"train.model: unknown key\(s\) \['adapter_ratio'\]"):
        load_config(overrides={"train": {"model": {"adapter_ratio": 0.2}}})
    load_config(overrides={"frames": {"max_frames": 8}, "train": {"enabled": False}})  # shards only: fine


def test_missing_clips_count_as_wrong():
    labels = [0, 0, 1, 1, 2]
    preds = [0, MISSING, 1, 0, MISSING]
    result = coverage_scores(labels, preds, ["a", "b", "c", "d"])
    assert result["listed"] == 5 and result["evaluated"] == 3
    assert result["war"] == pytest.approx(2 / 5) and result["uar"] == pytest.approx((1 / 2 + 1 / 2 + 0) / 3)
    assert result["war_evaluated"] == pytest.approx(2 / 3) and result["uar_evaluated"] == pytest.approx((1 + 1 / 2) / 2)
    assert result["support"] == {"a": 2, "b": 2, "c": 1, "d": 0}
    assert result["missing_per_class"] == {"a": 1, "b": 0, "c": 1, "d": 0}
    assert result["confusion"][1] == [1, 1, 0, 0] and result["per_class_recall"]["d"] is None


def test_classes_are_matched_by_name():
    demo = ["neutral", "happiness", "surprise", "anger"]
    other = ["fear", "anger", "happy", "neutral", "Sad"]
    assert match_by_name(demo, other) == {"fear": None, "anger": "anger", "happy": "happiness", "neutral": "neutral",
                                          "Sad": None}
    dfew, mafw = list(SPECS["dfew"].classes), list(SPECS["mafw"].classes)
    matched = match_by_name(dfew, mafw)
    assert [c for c, m in matched.items() if m] == dfew and [c for c, m in matched.items() if not m] == mafw[7:]


#: Table 3's pre-training datasets and the other datasets their rows are scored on ("-" cells left out).
TABLE3 = {"mafw": ["dfew", "ferv39k"], "dfew": ["ferv39k"], "ferv39k": ["dfew"]}


def shard_clips(workdir: Path, shard: str) -> set[str]:
    """The clip ids a planned shard will hold: its chunk manifest's rows (written at parse time)."""
    dataset, chunk = Path(shard).parent.name, Path(shard).stem
    manifest = workdir / "results" / dataset / "chunks" / f"{chunk}.json"
    return {r["id"] for r in json.loads(manifest.read_text())["rows"]}


def command_paths(command: str, flag: str) -> list[str]:
    """The quoted paths after ``flag`` in a planned shell command, up to the next option."""
    return [p.strip("'") for p in command.split(f" {flag} ", 1)[1].split(" --", 1)[0].split()]


@pytest.mark.e2e
@pytest.mark.parametrize("dataset", sorted(TABLE3))
def test_table3_plans_caption_pretraining_and_never_tests_a_pretrained_clip(tmp_path, dataset):
    """A dry run of the dataset's Table 3 experiments: caption pre-training (no label read) on each fold's
    training groups, then zero-shot evaluation on that fold's test clips and on every test group of the
    other datasets; no clip a model pre-trained on is among the clips it is scored on."""
    configs = configfiles(dataset, tmp_path)
    experiments = [e.name for e in plan_experiments(load_config(*configs)) if e.train["objective"] == "captions"]
    assert experiments, f"config/{dataset}.yaml holds no Table 3 experiment"
    commands = dry_run_commands(tmp_path, configs, "--config", f"select_experiments={json.dumps(experiments)}")
    trained = {}
    for c in (c for c in commands if "fineclipper.train.main" in c):
        config = json.loads(c.split("--config '", 1)[1].split("' --preprocessing", 1)[0])
        assert config["objective"] == "captions" and config["model"]["variant"] == "plus"
        trained[command_paths(c, "--out")[0]] = {s for s in command_paths(c, "--shards")}
    runs = {"dfew": 5, "mafw": 5, "ferv39k": 1}[dataset]
    assert len(trained) == len(set(experiments)) * 3 * runs  # three seeds, each run (fold)
    scored: dict[str, dict[str, set]] = {}
    for c in (c for c in commands if "fineclipper.train.evaluate" in c):
        run = str(Path(command_paths(c, "--checkpoint")[0]).parent)
        for shard in command_paths(c, "--shards"):
            scored.setdefault(run, {}).setdefault(Path(shard).parent.name, set()).add(shard)
        if "--protocol" in c:
            assert command_paths(c, "--protocol") == ["zero_shot"]
    test_groups = {"dfew": {f"fold{k}" for k in range(1, 6)}, "mafw": {f"fold{k}" for k in range(1, 6)},
                   "ferv39k": {"test"}}
    for run, shards in trained.items():
        assert set(scored[run]) == {dataset, *TABLE3[dataset]}
        fold = Path(run).name
        assert {Path(s).stem.rsplit("-", 1)[0] for s in scored[run][dataset]} == {fold}  # its own fold's test clips
        for other in TABLE3[dataset]:  # every test group of the other datasets
            assert {Path(s).stem.rsplit("-", 1)[0] for s in scored[run][other]} == test_groups[other]
        pretrained = set().union(*(shard_clips(tmp_path, s) for s in shards))
        tested = set().union(*(shard_clips(tmp_path, s) for s in scored[run][dataset]))
        assert pretrained and tested and not pretrained & tested
