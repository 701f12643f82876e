"""The training data pipeline, metrics, checkpoints, resume and DDP, on shards the real pipeline writes."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
import yaml
from helpers import (
    CLASSES,
    ONE_THREAD,
    TINY,
    free_port,
    jpeg,
    planned_jobs,
    png,
    require_e2e,
    snakemake,
    unnormalise,
)

from fineclipper.masks.labels import LABEL_INDEX, PALETTE
from fineclipper.model.config import RENDERS
from fineclipper.model.render import PARSING_ALPHA
from fineclipper.shards import make_sample
from fineclipper.train.data import (
    ClipTransform,
    epoch_batches,
    epoch_shares,
    is_validation,
    make_loader,
    sample_keys,
    segment_indices,
)
from fineclipper.train.metrics import scores


def synthetic_raw(n=4, size=64, at=(12, 20), corrupt=()):
    """A raw shard sample: grey frames, a nose blob in the masks at ``at`` and every landmark there."""
    frame = np.full((size, size, 3), 128, np.uint8)
    mask = np.zeros((size, size), np.uint8)
    x, y = at
    mask[y - 1:y + 2, x - 1:x + 2] = LABEL_INDEX["nose"]
    points = np.tile(np.array([[(x + 0.5) / size, (y + 0.5) / size, 0.0]], np.float32), (n, 478, 1)).reshape(n, 478, 3)
    jpegs = [b"\xff\xd8 broken" if i in corrupt else jpeg(frame) for i in range(n)]
    return make_sample("clip_1", jpegs, [png(mask)] * n, points, "The face is still.", 2, {"group": "train"})


def test_segment_indices():
    rng = np.random.default_rng(0)
    assert segment_indices(3, 5, True, rng) == [0, 1, 2, 2, 2]
    assert segment_indices(16, 4, False, rng) == [2, 6, 10, 14]
    picks = segment_indices(40, 4, True, rng)
    assert all(10 * k <= p < 10 * (k + 1) for k, p in enumerate(picks))


def drawn(stream: np.ndarray, frame: np.ndarray, render: str) -> np.ndarray:
    """Where a parsing or landmarks image has something drawn: off the frame (overlay) or off black (canvas)."""
    return (stream != frame).any(-1) if render == "overlay" else stream.sum(-1) > 0


def part_colour(render: str, part: str, under: np.ndarray) -> np.ndarray:
    """A part's colour in the parsing stream over frame pixels ``under``: its palette colour, blended over them."""
    colour = PALETTE[LABEL_INDEX[part]].astype(float)
    return colour if render == "canvas" else np.round((1 - PARSING_ALPHA) * under + PARSING_ALPHA * colour)


@pytest.mark.parametrize("render", RENDERS)
def test_one_crop_and_flip_for_every_stream(render):
    transform = ClipTransform(32, 4, True, ("frames", "parsing", "landmarks"), scale=(0.5, 0.6), render=render)
    for seed in range(6):
        out = transform(synthetic_raw(), np.random.default_rng(seed))
        frame, parsing, drawing = (unnormalise(out[s])[0] for s in ("frames", "parsing", "landmarks"))
        nose = np.argwhere(drawn(parsing, frame, render))
        dots = np.argwhere(drawn(drawing, frame, render))
        if len(nose) == 0:  # the crop left the blob out: then the landmarks must be gone too
            assert len(dots) == 0
            continue
        assert np.abs(nose.mean(0) - dots.mean(0)).max() <= 1.5
        # colour jitter does not touch the drawn colours: the nose keeps the palette's colour (over the frame)
        under = frame[tuple(nose.T)]
        assert np.abs(parsing[tuple(nose.T)] - part_colour(render, "nose", under)).max() <= 1


def test_only_sampled_frames_are_decoded():
    raw = synthetic_raw(n=16, corrupt={1, 3})
    out = ClipTransform(32, 4, False, ("frames",))(raw, np.random.default_rng(0))  # middle frames 2, 6, 10, 14
    assert out["frames"].shape == (4, 3, 32, 32)
    with pytest.raises(ValueError, match="^001.jpg is no decodable image$"):  # every frame: the broken ones too
        ClipTransform(32, 16, False, ("frames",))(raw, np.random.default_rng(0))


def test_uar_war_by_hand_with_an_absent_class():
    result = scores([0, 0, 0, 1, 2, 2], [0, 0, 1, 1, 0, 2], ["a", "b", "c", "d"])
    assert result["war"] == pytest.approx(4 / 6)
    assert result["uar"] == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)  # class d has no sample: not averaged
    assert result["per_class_recall"]["d"] is None and result["confusion"][2] == [1, 0, 1, 0]


RUN = "results/demo/experiments/main/seed0"
REPORT = "results/demo/report"


@pytest.mark.e2e
def test_workflow_trains_and_evaluates(demo_run):
    """Two epochs of training; a test evaluation of every listed clip whose confusion matrix counts each of
    them once, in its label's row; the report's mean is the run's figure. (Whether the demo learns is
    test_demo_learns': two epochs of three batches here are too few for the loss to fall reliably.)"""
    records = [json.loads(line) for line in (demo_run / RUN / "train/test/metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2] and all(np.isfinite(r["loss"]) for r in records), records
    metrics = json.loads((demo_run / RUN / "eval/test/metrics.json").read_text())
    assert metrics["listed"] == metrics["evaluated"] == 4 and metrics["classes"] == CLASSES
    confusion = np.array(metrics["confusion"])
    assert confusion.shape == (4, 4) and confusion.sum() == metrics["listed"]
    assert confusion.sum(1).tolist() == [metrics["support"][c] for c in CLASSES] == [1, 1, 1, 1]
    assert np.trace(confusion) / confusion.sum() == pytest.approx(metrics["war"])
    assert (demo_run / RUN / "eval/test/confusion.png").stat().st_size > 1000
    summary = json.loads((demo_run / REPORT / "summary.json").read_text())
    assert summary["experiments"]["main"]["per_run"]["test"]["uar"]["mean"] == metrics["uar"]


@pytest.mark.e2e
def test_the_report_holds_the_table_and_the_figures(demo_run):
    page = (demo_run / REPORT / "report.html").read_text()
    assert "Ours beside the paper" in page and "<b>main</b> (ours)" in page and "4/4 (100.0%)" in page
    # per-class recall, a confusion matrix, the curves, the preprocessing panel
    assert page.count('<img alt="figure" src="data:image/png;base64,') == 4
    for heading in ("Per-class recall", "Confusion matrices", "Training and validation",
                    "Zero-shot (the paper's Table 3)", "Cross-dataset transfer", "Preprocessing"):
        assert f"<h2>{heading}</h2>" in page


@pytest.mark.e2e
def test_checkpoints_hold_tunable_weights_only(demo_run):
    path = demo_run / RUN / "train/test/best.pt"
    state = torch.load(path, weights_only=True)
    assert state["classes"] == CLASSES and not any(k.startswith("clip.") for k in state["model"])
    assert path.stat().st_size < 5_000_000


def _train_command(out, shards, config, nproc=None) -> list[str]:
    require_e2e("starts training in a subprocess")
    args = ["-m", "fineclipper.train.main", "--shards", *shards, "--classes", json.dumps(CLASSES),
            "--test-groups", "test", "--out", str(out), "--config", json.dumps(config)]
    return [sys.executable, *args] if nproc is None else [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
        "--master_port", str(free_port()), *args]


def _train_cli(out, shards, config, nproc=None, timeout=600):
    return subprocess.run(_train_command(out, shards, config, nproc), capture_output=True, text=True, timeout=timeout,
                          env=ONE_THREAD)


def _records(path) -> list[dict]:
    """metrics.jsonl without its timings."""
    lines = (path / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "clips_per_s"} for line in lines]


@pytest.mark.e2e
def test_a_killed_training_resumes_to_the_same_result(demo_run, tmp_path):
    """SIGKILL after the first epoch, run the same command again: the same epochs, losses and weights as a
    run never interrupted (same seed, CPU)."""
    import signal
    import time

    shards = [str(p) for p in sorted((demo_run / "shards/demo").glob("*.tar"))]
    config = {"model": TINY, "epochs": 3, "batch_size": 2, "workers": 0}
    assert _train_cli(tmp_path / "whole", shards, config).returncode == 0
    killed = tmp_path / "killed"
    process = subprocess.Popen(_train_command(killed, shards, config), env=ONE_THREAD, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    while not (killed / "metrics.jsonl").exists() and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # the second epoch has begun
    process.wait()
    assert len(_records(killed)) == 1, "the run ended before it could be killed"
    result = _train_cli(killed, shards, config)
    assert result.returncode == 0 and "resuming from" in result.stderr
    assert _records(killed) == _records(tmp_path / "whole")
    whole, resumed = (torch.load(d / "best.pt", weights_only=True) for d in (tmp_path / "whole", killed))
    assert whole["epoch"] == resumed["epoch"]
    assert all(torch.equal(whole["model"][k], resumed["model"][k]) for k in whole["model"])


@pytest.mark.e2e
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


#: One training epoch on two gloo processes through the trainer's own engine; each rank saves its trainable
#: parameters (buffers such as BatchNorm's running statistics are rank 0's in a checkpoint, and may differ).
DDP_EPOCH = """
import json, sys, torch
from fineclipper.config import load_config
from fineclipper.train.checkpoint import build_model
from fineclipper.train.data import epoch_batches, make_loader, sample_keys
from fineclipper.train.distributed import cleanup, setup_distributed, wrap_ddp
from fineclipper.train.engine import optimiser_and_schedule, train_one_epoch, transform_for
shards, classes, config, out = sys.argv[1].split(","), json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
cfg = load_config(overrides={"train": config})["train"]
rank, world, device = setup_distributed()
torch.manual_seed(cfg["seed"])
model = build_model(cfg["model"], classes, device)


def trainable():
    return {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}


torch.save(trainable(), f"{out}.initial.{rank}")
steps = epoch_batches(sum(len(sample_keys(s)) for s in shards), world, cfg["batch_size"])
loader = make_loader(shards, transform_for(model, True, None, cfg["augment"]), cfg["batch_size"], 0, train=True)
optimizer, scheduler = optimiser_and_schedule(model, cfg, steps)
record = train_one_epoch(model, wrap_ddp(model, world, device), loader, optimizer, scheduler, cfg, device, 0, steps,
                         world, False)
torch.save({"weights": trainable(), "record": record}, f"{out}.{rank}")
cleanup()
"""


@pytest.mark.e2e
def test_two_process_ddp_on_cpu(demo_run, tmp_path):
    """The trainer on two processes; then one epoch of the engine on two processes, each rank reading its
    own clips: both ranks start from the same weights, take the same steps and end with equal trainable
    weights that differ from where they started (gradients were averaged, every step applied on both)."""
    shards = [str(p) for p in sorted((demo_run / "shards/demo").glob("*.tar"))]
    result = _train_cli(tmp_path, shards, {"model": TINY, "epochs": 2, "batch_size": 2, "workers": 0}, nproc=2)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and (tmp_path / "best.pt").exists()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(len(set(r["batches_per_rank"])) == 1 for r in records)

    (tmp_path / "ddp_epoch.py").write_text(DDP_EPOCH)
    train_shards = [s for s in shards if "/train-" in s]
    config = {"model": TINY, "epochs": 1, "batch_size": 2, "workers": 0, "lr": 0.01, "warmup_epochs": 0}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
           str(tmp_path / "ddp_epoch.py"), ",".join(train_shards), json.dumps(CLASSES), json.dumps(config),
           str(tmp_path / "weights")]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[-3000:]
    initial = [torch.load(tmp_path / f"weights.initial.{rank}", weights_only=True) for rank in (0, 1)]
    trained = [torch.load(tmp_path / f"weights.{rank}", weights_only=True) for rank in (0, 1)]
    assert trained[0]["record"]["batches_per_rank"] == trained[1]["record"]["batches_per_rank"] == [
        epoch_batches(sum(len(sample_keys(s)) for s in train_shards), 2, 2)] * 2
    assert all(torch.equal(initial[0][k], initial[1][k]) for k in initial[0])
    assert all(torch.allclose(trained[0]["weights"][k], trained[1]["weights"][k], atol=1e-6) for k in initial[0])
    assert any(not torch.equal(trained[0]["weights"][k], initial[0][k]) for k in initial[0])


def test_equal_batches_on_every_rank(tmp_path):
    """Shards of 1 and of 20 clips read by 2, 3 or 5 ranks: every rank takes the same number of batches,
    each of them made of its own share of the clips (the loader's epoch length cannot pad a short rank by
    repeating its clips): every clip is shown, fewer than 2 x ranks of them twice."""
    shards = [_shard(tmp_path / "train-0000.tar", [_grey_clip("lone", 2, size=8)]),
              _shard(tmp_path / "train-0001.tar", [_grey_clip(f"c{i:02d}", 2, size=8) for i in range(20)])]
    transform = ClipTransform(8, 2, True, ("frames",), jitter=0.0)
    clips = {k for s in shards for k in sample_keys(s)}
    for world in (2, 3, 5):  # ranks whose shares differ by a clip, and shares of a few clips
        shown = []
        for rank in range(world):
            batches = [b["key"] for b in make_loader(shards, transform, 2, 0, train=True, rank=rank, world=world)]
            assert len(batches) == epoch_batches(len(clips), world, 2), (world, rank, batches)
            shown += [k for batch in batches for k in batch]
        assert set(shown) == clips and len(shown) - len(clips) < 2 * world, (world, shown)


def test_epoch_shares_show_every_clip_once():
    """Every split of a true epoch: each rank the same batches, every clip shown, fewer than 2 x ranks
    twice (none with one process unless a lone clip would be left), only a rank's last batch partial and
    never of one clip."""
    keys = {f"train-{s:04d}.tar": [f"s{s}c{c}" for c in range(n)] for s, n in enumerate([7, 250, 1, 33, 250])}
    clips = [k for shard_keys in keys.values() for k in shard_keys]  # 541: 541 % 4 == 1
    for world, workers, batch in [(1, 0, 8), (1, 3, 8), (1, 2, 4), (1, 4, 1), (2, 2, 8), (3, 5, 4), (8, 4, 32),
                                  (270, 0, 2), (541, 0, 1)]:
        seen, batches = [], set()
        for rank in range(world):
            shares = epoch_shares(keys, 7, rank, world, workers, batch)
            assert len(shares) == max(1, workers)
            sizes = [sum(map(len, share.values())) for share in shares]
            batches.add(sum(-(-n // batch) for n in sizes))
            assert sum(n % batch != 0 for n in sizes) <= 1 and all(n % batch != 1 for n in sizes if batch > 1)
            seen += [k for share in shares for shard_keys in share.values() for k in shard_keys]
        assert batches == {epoch_batches(len(clips), world, batch)}
        twice = len(seen) - len(clips)
        assert set(seen) == set(clips) and twice < 2 * world
        if world == 1:
            assert twice == (batch > 1 and len(clips) % batch == 1)
    with pytest.raises(ValueError, match="541 training clips for 542 processes"):
        epoch_shares(keys, 7, 0, 542, 0, 1)


def _epoch_keys(shards, keys, workers, epoch, rank=None, world=None) -> list[list[str]]:
    """The keys of each batch of one training epoch, 10% held out, batches of 2."""
    transform = ClipTransform(32, 4, True, ("frames",), jitter=0.0)
    loader = make_loader(shards, transform, 2, workers, train=True, keys=keys, seed=epoch, rank=rank, world=world,
                         select=lambda k: not is_validation(k, 10))
    return [batch["key"] for batch in loader]


@pytest.mark.e2e
def test_an_epoch_shows_every_training_clip_once(demo_run):
    """On the demo's shards (10% held out): one process, with and without workers, every training clip
    exactly once; two epochs, the same clips in another order; 2 ranks x 2 workers, equal batches and all
    clips, a few of them twice."""
    from fineclipper.train.main import readable_shards

    shards = sorted(str(p) for p in (demo_run / "shards/demo").glob("train-*.tar"))
    keys, _ = readable_shards(shards, False)
    training = sorted(k for shard_keys in keys.values() for k in shard_keys if not is_validation(k, 10))
    assert 6 <= len(training) < sum(map(len, keys.values())) and len(training) % 2 == 0  # no lone clip to pair
    orders = []
    for workers, epoch in [(0, 0), (0, 1), (2, 0)]:
        batches = _epoch_keys(shards, keys, workers, epoch)
        assert len(batches) == epoch_batches(len(training), 1, 2)
        orders.append([k for batch in batches for k in batch])
        assert sorted(orders[-1]) == training
    assert orders[0] != orders[1]
    ranks = [_epoch_keys(shards, keys, 2, 0, rank, 2) for rank in range(2)]
    assert [len(batches) for batches in ranks] == [epoch_batches(len(training), 2, 2)] * 2
    shown = [k for batches in ranks for batch in batches for k in batch]
    assert sorted(set(shown)) == training and len(shown) - len(training) < 2 * 2


# A second dataset with other class names in another order, a class with no test clip, a faceless test clip.
OTHER_CLASSES = ["fear", "sad", "anger", "neutral", "happy"]
OTHER_CLIPS = [("anger", "anger", "test"), ("anger", "anger", "test"), ("happiness", "happy", "test"),
               ("neutral", "neutral", "test"), ("neutral", "neutral", "test"), ("sadness", "sad", "test"),
               (None, "sad", "test"), ("happiness", "happy", "train")]


@pytest.mark.e2e
def test_cross_dataset_transfer_scores_another_datasets_own_test_clips(own_demo_run):
    """Trained on the demo's labels, evaluated on another dataset's test group with its label texts
    (cross-dataset transfer, not zero-shot): supports are that dataset's test counts, and its faceless test
    clip is listed, explained and counted as wrong. On a copy of the demo run: its report changes."""
    from media import noise_clip

    from fineclipper.datasets.demo import render_clip, write_video

    workdir = own_demo_run
    data = workdir / "other"
    data.mkdir()
    lines = ["path,label,group"]
    for i, (expression, label, group) in enumerate(OTHER_CLIPS):
        path = data / f"clip{i}.mp4"
        if expression is None:
            noise_clip(path)
        else:
            write_video(path, render_clip(expression, 50 + i, {"frames": 12, "size": 160, "fps": 25, "seed": 0}), 25)
        lines.append(f"other/clip{i}.mp4,{label},{group}")
    (workdir / "other.csv").write_text("\n".join(lines) + "\n")
    (workdir / "other.yaml").write_text(yaml.safe_dump({
        "dataset": {"name": "other", "format": "table", "annotations": "other.csv", "classes": OTHER_CLASSES},
        "chunk_size": 4, "frames": {"max_frames": 8}, "train": {"model": TINY}}))
    cfg = yaml.safe_load((workdir / "cfg.yaml").read_text())
    cfg["train"]["cross_dataset"] = ["other.yaml"]
    (workdir / "transfer.yaml").write_text(yaml.safe_dump(cfg))
    jobs = planned_jobs(snakemake(workdir, "--cores", "2", "all", "-n", configs=("transfer.yaml",)))
    assert "train" not in jobs and "evaluate" not in jobs and jobs["evaluate_other"] == 1  # adds, never retrains
    assert jobs["frames"] == 2  # the other dataset's test chunks only: its train group is not built
    snakemake(workdir, "--cores", "2", "all", configs=("transfer.yaml",))

    metrics = json.loads((workdir / RUN / "eval/test/cross_dataset_other/metrics.json").read_text())
    tested = [label for _, label, group in OTHER_CLIPS if group == "test"]
    assert metrics["protocol"] == "cross-dataset transfer" and metrics["classes"] == OTHER_CLASSES
    assert metrics["support"] == {c: tested.count(c) for c in OTHER_CLASSES}  # "fear": 0, "sad": 2, ...
    assert metrics["listed"] == 7 and metrics["evaluated"] == 6
    (missing,) = metrics["missing"]
    assert missing["id"] == "other_clip6" and re.search("no face|face landmarks found in 0 of", missing["reason"])
    labels = {f"other_clip{i}": OTHER_CLASSES.index(label)
              for i, (_, label, group) in enumerate(OTHER_CLIPS) if group == "test"}
    correct = sum(metrics["predictions"].get(k) == v for k, v in labels.items())
    assert metrics["war"] == pytest.approx(correct / 7)  # the missing clip counts as wrong
    assert metrics["per_class_recall"]["sad"] <= 0.5 and metrics["per_class_recall"]["fear"] is None
    assert set(metrics["seen_classes"]) == {"anger", "neutral", "happy"}  # happy is the demo's happiness
    summary = json.loads((workdir / REPORT / "summary.json").read_text())
    assert summary["cross_dataset"]["other"]["main"]["listed"] == 7 and summary["zero_shot"] == {}
    report = (workdir / REPORT / "report.html").read_text()
    table3 = report.split("Zero-shot (the paper's Table 3)", 1)[1].split("Cross-dataset transfer", 1)[0]
    assert "(ours)" not in table3 and "EmoCLIP" in table3  # transfer is never set beside Table 3


def _shard(path, samples):
    from fineclipper.shards import write_shard

    write_shard(path, samples)
    return str(path)


def _grey_clip(key, n, label=0, size=16):
    """A clip whose frame i is grey level 3 * i: a decoded frame tells which one it is."""
    frames = [jpeg(np.full((size, size, 3), 3 * i, np.uint8)) for i in range(n)]
    masks = [png(np.zeros((size, size), np.uint8))] * n
    return make_sample(key, frames, masks, np.zeros((n, 478, 3), np.float32), "still", label, {"group": "train"})


def _frame_numbers(batch) -> list[int]:
    frames = batch["frames"][0].float()  # (T, 3, H, W) uint8 values
    return [int(round(float(f.mean()) / 3)) for f in frames]


def test_two_epochs_draw_different_frames_of_a_clip(tmp_path):
    """64 stored frames, 16 segments: training takes a random frame of each segment, so epochs differ."""
    shard = _shard(tmp_path / "train-0000.tar", [_grey_clip("clip", 64)])
    transform = ClipTransform(16, 16, True, ("frames",), jitter=0.0, scale=(1.0, 1.0))
    loader = make_loader([shard], transform, 1, 0, train=True)
    epochs = [_frame_numbers(batch) for _ in range(2) for batch in loader]
    assert len(epochs) == 2 and epochs[0] != epochs[1]
    for picks in epochs:
        assert all(4 * k <= p < 4 * (k + 1) for k, p in enumerate(picks))  # one frame from each segment
    test = ClipTransform(16, 16, False, ("frames",))
    middle = _frame_numbers(next(iter(make_loader([shard], test, 1, 0, train=False))))
    assert middle == [4 * k + 2 for k in range(16)]


def test_batches_mix_classes_of_single_class_shards(tmp_path):
    """Even shards of one class each (a class-sorted list chunked in order) give mixed batches: a worker
    reads several shards at once and shuffles them."""
    shards = [_shard(tmp_path / f"train-{c:04d}.tar", [_grey_clip(f"c{c}_{i}", 2, label=c, size=8) for i in range(250)])
              for c in range(4)]
    transform = ClipTransform(8, 2, True, ("frames",), jitter=0.0)
    batches = list(make_loader(shards, transform, 8, 0, train=True))
    single = sum(len(set(b["label"].tolist())) == 1 for b in batches)
    assert single <= 3, f"{single} of {len(batches)} batches hold one class"


@pytest.mark.parametrize("render", RENDERS)
def test_flip_swaps_left_and_right_labels(render):
    """A left-eye blob on the image's right: flipped, it lies on the image's left and is a right eye."""
    size = 32
    mask = np.zeros((size, size), np.uint8)
    mask[10:14, 22:26] = LABEL_INDEX["left_eye"]
    raw = make_sample("clip_1", [jpeg(np.full((size, size, 3), 128, np.uint8))] * 2, [png(mask)] * 2,
                      np.zeros((2, 478, 3), np.float32), "still", 0, {"group": "train"})
    transform = ClipTransform(size, 2, True, ("frames", "parsing"), scale=(1.0, 1.0), render=render)
    seen = set()
    for seed in range(20):
        out = transform(raw, np.random.default_rng(seed))
        frame, parsing = unnormalise(out["frames"])[0], unnormalise(out["parsing"])[0]
        blob = np.argwhere(drawn(parsing, frame, render))
        side = "left" if blob[:, 1].mean() < size / 2 else "right"
        expected = part_colour(render, "left_eye" if side == "right" else "right_eye", frame[tuple(blob[0])])
        assert np.abs(parsing[tuple(blob[0])] - expected).max() <= 1
        seen.add(side)
    assert seen == {"left", "right"}  # both flipped and unflipped samples were drawn


def test_mirrored_map_is_the_map_of_the_mirrored_face(astronaut_face):
    """Each sided part of the mirrored label map lies where Face Mesh puts that part in the mirrored face."""
    from fineclipper.face.mesh import face_mesh_clip
    from fineclipper.masks import get_parser
    from fineclipper.masks.labels import mirror

    parser = get_parser("landmarks", {})
    flipped = np.ascontiguousarray(astronaut_face[:, ::-1])
    original, of_flipped = (parser(face_mesh_clip([f])[0][0], f.shape[:2]) for f in (astronaut_face, flipped))

    def centre(label_map, name):
        return np.argwhere(label_map == LABEL_INDEX[name]).mean(0)

    for name in ("left_eye", "right_eye", "left_brow", "right_brow"):
        assert np.abs(centre(mirror(original), name) - centre(of_flipped, name)).max() < 6, name
        # a plain flip puts the label on the other side of the face
        assert np.abs(centre(original[:, ::-1], name) - centre(of_flipped, name))[1] > 50, name
