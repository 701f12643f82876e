"""The training data pipeline, metrics, checkpoints, resume and DDP, on shards the real pipeline writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from fineclipper.masks.labels import PALETTE, LABEL_INDEX
from fineclipper.shards import make_sample
from fineclipper.train.data import CLIP_MEAN, CLIP_STD, ClipTransform, make_loader, segment_indices, to_device
from fineclipper.train.metrics import scores

REPO = Path(__file__).resolve().parent.parent
CLASSES = ["neutral", "happiness", "surprise", "anger"]
TINY = {"clip_model": "FC-Tiny", "pretrained": None, "num_frames": 4}


def _jpeg(image):
    import cv2

    return cv2.imencode(".jpg", image[..., ::-1])[1].tobytes()


def _png(label_map):
    import cv2

    return cv2.imencode(".png", label_map)[1].tobytes()


def synthetic_raw(n=4, size=64, at=(12, 20), corrupt=()):
    """A raw shard sample: grey frames, a nose blob in the masks at ``at`` and every landmark there."""
    frame = np.full((size, size, 3), 128, np.uint8)
    mask = np.zeros((size, size), np.uint8)
    x, y = at
    mask[y - 1:y + 2, x - 1:x + 2] = LABEL_INDEX["nose"]
    points = np.tile(np.array([[(x + 0.5) / size, (y + 0.5) / size, 0.0]], np.float32), (n, 478, 1)).reshape(n, 478, 3)
    jpegs = [b"\xff\xd8 broken" if i in corrupt else _jpeg(frame) for i in range(n)]
    return make_sample("clip_1", jpegs, [_png(mask)] * n, points, "The face is still.", 2, {"group": "train"})


def unnormalise(t: torch.Tensor) -> np.ndarray:
    """Back from the normalised float stream the model sees to 0..255 colours."""
    normalised = to_device({"parsing": t[None]}, torch.device("cpu"))["parsing"][0]
    return ((normalised.permute(0, 2, 3, 1).numpy() * CLIP_STD + CLIP_MEAN) * 255).round()


def test_segment_indices():
    rng = np.random.default_rng(0)
    assert segment_indices(3, 5, True, rng) == [0, 1, 2, 2, 2]
    assert segment_indices(16, 4, False, rng) == [2, 6, 10, 14]
    picks = segment_indices(40, 4, True, rng)
    assert all(10 * k <= p < 10 * (k + 1) for k, p in enumerate(picks))


def test_one_crop_and_flip_for_every_stream():
    transform = ClipTransform(32, 4, True, ("frames", "parsing", "landmarks"), scale=(0.5, 0.6))
    for seed in range(6):
        out = transform(synthetic_raw(), np.random.default_rng(seed))
        parsing, drawing = unnormalise(out["parsing"])[0], unnormalise(out["landmarks"])[0]
        nose = np.argwhere((parsing == PALETTE[LABEL_INDEX["nose"]]).all(-1))
        dots = np.argwhere(drawing.sum(-1) > 0)
        if len(nose) == 0:  # the crop left the blob out: then the landmarks must be gone too
            assert len(dots) == 0
            continue
        assert np.abs(nose.mean(0) - dots.mean(0)).max() <= 1.5
        # colour jitter touches frames only: the parsing stream keeps the palette's colours
        colours = {tuple(c) for c in parsing.reshape(-1, 3).astype(int)}
        assert colours <= {tuple(c) for c in PALETTE.astype(int)}


def test_only_sampled_frames_are_decoded():
    raw = synthetic_raw(n=16, corrupt={1, 3})
    out = ClipTransform(32, 4, False, ("frames",))(raw, np.random.default_rng(0))  # middle frames 2, 6, 10, 14
    assert out["frames"].shape == (4, 3, 32, 32)
    import cv2

    with pytest.raises(cv2.error):  # sampling every frame reaches the broken ones
        ClipTransform(32, 16, False, ("frames",))(raw, np.random.default_rng(0))


def test_uar_war_by_hand_with_an_absent_class():
    result = scores([0, 0, 0, 1, 2, 2], [0, 0, 1, 1, 0, 2], ["a", "b", "c", "d"])
    assert result["war"] == pytest.approx(4 / 6)
    assert result["uar"] == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)  # class d has no sample: not averaged
    assert result["per_class_recall"]["d"] is None and result["confusion"][2] == [1, 0, 1, 0]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The whole default workflow on a small demo: shards, a 2-epoch tiny model, its test metrics."""
    workdir = tmp_path_factory.mktemp("train")
    cfg = {"demo": {"clips_per_class": 3, "test_per_class": 1, "frames": 12, "size": 160}, "chunk_size": 4,
           "frames": {"max_frames": 8},
           "train": {"model": TINY, "epochs": 2, "batch_size": 2, "workers": 0, "val_percent": 25}}
    (workdir / "cfg.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(workdir / "cfg.yaml"), "--cores", "2", "all"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir


def test_workflow_trains_and_evaluates(demo_run):
    metrics = json.loads((demo_run / "results/demo/eval/test/metrics.json").read_text())
    assert metrics["samples"] == 4 and set(metrics) >= {"uar", "war", "per_class_recall", "confusion"}
    assert (demo_run / "results/demo/eval/test/confusion.png").stat().st_size > 1000
    summary = json.loads((demo_run / "results/demo/eval/summary.json").read_text())
    assert summary["runs"]["test"]["uar"] == metrics["uar"]
    lines = (demo_run / "results/demo/train/test/metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]


def test_zero_shot_setting_adds_evaluations_without_retraining(demo_run):
    cfg = yaml.safe_load((demo_run / "cfg.yaml").read_text())
    cfg["train"]["zero_shot"] = ["mafw"]
    (demo_run / "zs.yaml").write_text(yaml.safe_dump(cfg))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(demo_run),
           "--configfile", str(demo_run / "zs.yaml"), "-n", "all"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", out.split("Job stats:", 1)[1], re.M))
    assert jobs == {"zero_shot": "1", "report": "1", "all": "1", "total": "3"}


def test_checkpoints_hold_tunable_weights_only(demo_run):
    path = demo_run / "results/demo/train/test/best.pt"
    state = torch.load(path, weights_only=True)
    assert state["classes"] == CLASSES and not any(k.startswith("clip.") for k in state["model"])
    assert path.stat().st_size < 5_000_000


def _train_cli(out, shards, config, nproc=None, timeout=600):
    args = ["-m", "fineclipper.train.loop", "--shards", *shards, "--classes", json.dumps(CLASSES),
            "--test-groups", "test", "--out", str(out), "--config", json.dumps(config)]
    cmd = [sys.executable, *args] if nproc is None else [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc), "--master_port", "29533", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def test_resume_continues_where_it_stopped(demo_run, tmp_path):
    shards = [str(p) for p in sorted((demo_run / "shards/demo").glob("*.tar"))]
    config = {"model": TINY, "epochs": 1, "batch_size": 2, "workers": 0}
    assert _train_cli(tmp_path, shards, config).returncode == 0
    first = torch.load(tmp_path / "last.pt", weights_only=True)
    result = _train_cli(tmp_path, shards, {**config, "epochs": 3})
    assert result.returncode == 0 and "resuming from" in result.stderr and "at epoch 1" in result.stderr
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3]
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert last["epoch"] == 2 and last["scheduler"]["last_epoch"] > first["scheduler"]["last_epoch"]


def test_two_process_ddp_on_cpu(demo_run, tmp_path):
    shards = [str(p) for p in sorted((demo_run / "shards/demo").glob("*.tar"))]
    result = _train_cli(tmp_path, shards, {"model": TINY, "epochs": 2, "batch_size": 2, "workers": 0}, nproc=2)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and (tmp_path / "best.pt").exists()


def test_equal_batches_on_every_rank(demo_run):
    shards = sorted(str(p) for p in (demo_run / "shards/demo").glob("train-*.tar"))
    transform = ClipTransform(32, 4, True, ("frames",))
    for subset in (shards[:1], shards):  # ranks that happen to see different data
        loader = make_loader(subset, transform, 2, 0, train=True, batches_per_epoch=5)
        assert sum(1 for _ in loader) == 5


def test_zero_shot_evaluation_on_other_label_texts(demo_run, tmp_path):
    from fineclipper.datasets.foldlists import SPECS
    from fineclipper.train.evaluate import evaluate

    mafw = list(SPECS["mafw"].classes)
    result = evaluate(str(demo_run / "results/demo/train/test/best.pt"), [str(demo_run / "shards/demo/*.tar")],
                      ["test"], tmp_path, classes=mafw, workers=0)
    assert result["zero_shot"] and result["classes"] == mafw and result["samples"] == 4
    assert (tmp_path / "confusion.png").exists()
