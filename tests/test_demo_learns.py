"""The main job: the default config end to end (demo clips, shards, a tiny FineCLIPER, its test metrics);
then, on the same videos, caption pre-training that reads no label, scored zero-shot."""

import json
from pathlib import Path

import pytest
import yaml
from helpers import snakemake

from fineclipper import REPO_ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_main(tmp_path_factory) -> Path:
    """`snakemake --cores 2 all` with the default config, as the README's first command runs it."""
    workdir = tmp_path_factory.mktemp("demo")
    snakemake(workdir, "--cores", "2", "all", configs=())
    return workdir


@pytest.mark.slow
def test_default_workflow_learns_the_demo(demo_main):
    metrics = json.loads((demo_main / "results/demo/experiments/main/seed0/eval/test/metrics.json").read_text())
    print(f"demo test UAR {metrics['uar']:.3f} WAR {metrics['war']:.3f} on {metrics['samples']} clips")
    assert metrics["listed"] == metrics["evaluated"] == 20 and metrics["uar"] >= 0.85  # chance is 0.25
    again = snakemake(demo_main, "--cores", "2", "all", "-n", configs=())
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slow
def test_caption_pretraining_learns_what_the_captions_say(demo_main):
    """The mechanism of Table 3: the demo's videos as a table dataset whose captions are "A person with an
    expression of <class>."; caption pre-training reads the captions and never a label, then the label
    texts score the 20 held-out test clips: well above chance (0.25).

    The table names the videos relative to its folder, so the clip ids (which seed each clip's augmentation)
    do not depend on where the test runs (with absolute paths, CI's run of seed 0 scored 0.55 where ours
    scored 0.85). No validation share: 7 held-out clips made the lowest-InfoNCE epoch a draw (best.pt of
    seeds 1-6 scored 0.65-0.85); the last epoch, trained on all 80 clips, scored 0.70-0.85 on seeds 0-6."""
    from fineclipper.datasets.demo import demo_manifest
    from fineclipper.shards import decode_sample, iter_raw

    config = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())
    rows = demo_manifest(config["demo"], "results/demo/videos")
    lines = ["path,label,group,caption"] + [
        f"{r['source']},{r['label_name']},{r['group']},A person with an expression of {r['label_name']}." for r in rows]
    (demo_main / "captioned.csv").write_text("\n".join(lines) + "\n")
    model = {**config["train"]["model"], "variant": "base"}
    captioned = {"dataset": {"name": "captioned", "format": "table", "annotations": "captioned.csv",
                             "classes": config["demo"]["classes"]},
                 "train": {**config["train"], "model": model, "objective": "captions", "captions": "dataset",
                           "val_percent": 0}}
    (demo_main / "captioned.yaml").write_text(yaml.safe_dump(captioned))
    snakemake(demo_main, "--cores", "2", "all", configs=("captioned.yaml",))
    run = demo_main / "results/captioned/experiments/main/seed0"
    metrics = json.loads((run / "eval/test/metrics.json").read_text())
    print(f"captions naming the class, zero-shot on held-out clips: UAR {metrics['uar']:.3f} WAR {metrics['war']:.3f} "
          f"({metrics['evaluated']}/{metrics['listed']} clips; chance 0.25)")
    assert metrics["protocol"] == "zero-shot" and metrics["listed"] == metrics["evaluated"] == 20
    assert metrics["uar"] >= 0.6
    records = [json.loads(line) for line in (run / "train/test/metrics.jsonl").read_text().splitlines()]
    assert all("ce" not in r and "val_uar" not in r for r in records)  # no label was read
    sample = decode_sample(next(iter_raw(next((demo_main / "shards/captioned").glob("train-*.tar")))))
    assert sample["caption"] == f"A person with an expression of {sample['meta']['label_name']}."
