"""Bad days: kills, full disks, broken shards, unequal ranks, long and large clips."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import ONE_THREAD, TINY, free_port, jpeg, png, require_e2e, snakemake, snakemake_command

from fineclipper.shards import iter_raw, make_sample, write_shard

CLASSES = ["neutral", "happiness"]


def synthetic_shard(path: Path, n: int, start: int = 0) -> str:
    """A shard of ``n`` tiny 6-frame clips, labels alternating."""
    mask = png(np.zeros((64, 64), np.uint8))
    samples = [make_sample(f"c{start + i}", [jpeg(np.full((64, 64, 3), 10 * i + f, np.uint8)) for f in range(6)],
                           [mask] * 6, np.full((6, 478, 3), 0.5, np.float32), "still", (start + i) % 2,
                           {"group": "train"})
               for i in range(n)]
    write_shard(path, samples)
    return str(path)


def train(out: Path, shards: list[str], nproc: int | None = None, **config) -> subprocess.CompletedProcess:
    require_e2e("starts training in a subprocess")
    args = ["-m", "fineclipper.train.main", "--shards", *shards, "--classes", json.dumps(CLASSES), "--out", str(out),
            "--config",
            json.dumps({"model": TINY, "epochs": 2, "batch_size": 2, "workers": 0, "val_percent": 0, **config})]
    cmd = [sys.executable, *args] if nproc is None else [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
        "--master_port", str(free_port()), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ONE_THREAD)


@pytest.mark.e2e
def test_a_truncated_shard_is_named_or_skipped(tmp_path):
    good = synthetic_shard(tmp_path / "train-0000.tar", 6)
    data = Path(synthetic_shard(tmp_path / "train-0001.tar", 6, start=6)).read_bytes()
    (tmp_path / "train-0001.tar").write_bytes(data[: len(data) // 2])
    bad = str(tmp_path / "train-0001.tar")
    result = train(tmp_path / "run", [good, bad])
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (f"train: error: {bad}: not a readable shard (unexpected end of "
                                                      "data); set train.skip_bad_shards: true to train without it")
    result = train(tmp_path / "skip", [good, bad], skip_bad_shards=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads((tmp_path / "skip/train_summary.json").read_text())["skipped_shards"] == [bad]


@pytest.mark.e2e
def test_an_undecodable_sample_names_its_shard_or_is_skipped(tmp_path):
    good = synthetic_shard(tmp_path / "train-0000.tar", 6)
    samples = list(iter_raw(synthetic_shard(tmp_path / "train-0001.tar", 2, start=6)))
    for raw in samples:
        for k in [k for k in raw if k.startswith("__") and k != "__key__"]:
            del raw[k]
        raw.update({f"{i:03d}.jpg": b"\xff\xd8 broken" for i in range(6)})
    write_shard(tmp_path / "train-0001.tar", samples)
    bad = str(tmp_path / "train-0001.tar")
    result = train(tmp_path / "run", [good, bad], epochs=1)
    assert result.returncode == 2 and f"train: error: {bad}: sample c" in result.stderr
    assert "cannot be decoded" in result.stderr.strip().splitlines()[-1]
    result = train(tmp_path / "skip", [good, bad], epochs=1, skip_bad_shards=True)
    assert result.returncode == 0 and "skipped (" in result.stderr
    (record,) = [json.loads(line) for line in (tmp_path / "skip/metrics.jsonl").read_text().splitlines()]
    assert record["batches_per_rank"] == [4]  # the skipped samples' places are taken: 8 clips, batches of 2


@pytest.mark.e2e
def test_ranks_with_very_unequal_shards_take_equal_steps(tmp_path):
    """Two processes, one shard of 1 clip and one of 20: every epoch both ranks take the same batches."""
    shards = [synthetic_shard(tmp_path / "train-0000.tar", 1), synthetic_shard(tmp_path / "train-0001.tar", 20, 1)]
    result = train(tmp_path / "run", shards, nproc=2, epochs=2)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in (tmp_path / "run/metrics.jsonl").read_text().splitlines()]
    steps = -(-21 // (2 * 2))  # ceil(clips / (batch x ranks))
    assert [r["batches_per_rank"] for r in records] == [[steps, steps]] * 2


#: The demo of these tests: two classes, eight clips.
DEMO = {"classes": CLASSES, "clips_per_class": 3, "test_per_class": 1, "frames": 8, "size": 128}


def demo_workdir(path: Path, **config) -> Path:
    path.mkdir(parents=True)
    base = {"demo": DEMO, "chunk_size": 3, "frames": {"max_frames": 8}, "train": {"enabled": False}}
    (path / "config.yaml").write_text(yaml.safe_dump({**base, **config}))
    return path


def shard_bytes(workdir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((workdir / "shards/demo").glob("*.tar"))}


def atomic_temporaries(folder: Path) -> list[Path]:
    """The temporaries of the atomic writes now under way under ``folder`` (named as fineclipper.io.atomic_path
    names them: a dot, the file's name, .tmp- and the writer's pid)."""
    return list(folder.rglob(".*.tmp-*"))


@pytest.mark.e2e
def test_a_killed_run_reruns_to_the_same_shards(tmp_path):
    """Snakemake and its jobs SIGKILLed in the middle of writing a demo video: its temporary seen, Snakemake
    alive at the kill, the temporary left behind (the writer died mid-write). `snakemake --unlock` (no
    --cores), then the same command: no temporary left, only complete outputs kept, and the shards equal an
    unkilled run's. 96-frame clips make each video write last a tenth of a second or more, against a poll
    every millisecond."""
    config = {"demo": {**DEMO, "frames": 96}}
    reference = demo_workdir(tmp_path / "reference", **config)
    snakemake(reference, "--cores", "2", "shards")
    killed = demo_workdir(tmp_path / "killed", **config)
    process = subprocess.Popen(snakemake_command(killed, "--cores", "2", "shards"), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 600
    writing = []
    while not writing and process.poll() is None and time.time() < deadline:
        time.sleep(0.001)
        writing = atomic_temporaries(killed / "results/demo/videos")
    alive = process.poll() is None
    if alive:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert writing and alive, "Snakemake ended (or timed out) before a video was seen being written"
    assert any(p.exists() for p in writing), f"the write of {writing} ended before the kill"
    snakemake(killed, "--unlock")
    snakemake(killed, "--cores", "2", "shards")
    assert shard_bytes(killed) == shard_bytes(reference) != {}
    assert not atomic_temporaries(killed)  # the killed write's temporary was cleared by the rerun


def limited_file_size(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.e2e
def test_a_full_disk_fails_clearly_and_leaves_no_partial_shard(tmp_path):
    workdir = demo_workdir(tmp_path / "run")
    snakemake(workdir, "--cores", "2", "results/demo/landmarks/train-0000.parquet")
    result = snakemake(workdir, "--cores", "1", "shards", check=False, preexec_fn=limited_file_size(60_000))
    assert result.returncode != 0
    logs = "\n".join(p.read_text() for p in (workdir / "logs/demo").rglob("*.log"))
    assert re.search(r"pack stage: error: \[Errno 27\] "
                     r"writing shards/demo/\S+\.tar: File too large", logs), logs[-2000:]
    assert not atomic_temporaries(workdir) and not (workdir / "shards/demo/train-0000.tar").exists()
    snakemake(workdir, "--cores", "2", "shards")
    assert shard_bytes(workdir)


@pytest.mark.slow
@pytest.mark.e2e
def test_a_long_and_a_large_clip_stay_within_the_rules_memory(tmp_path, astronaut):
    """A 900-frame clip and a 1920x1080 clip in one chunk: the frames job's peak RSS (Snakemake's benchmark)
    stays below the mem_mb its rule asks for."""
    from fineclipper.datasets.demo import write_video

    data = tmp_path / "data"
    data.mkdir()
    small = astronaut[::4, ::4]
    write_video(data / "long.mp4", np.stack([np.roll(small, i % 64, axis=1) for i in range(900)]), 25)
    big = np.pad(astronaut, ((284, 284), (704, 704), (0, 0)))  # the face in a 1920x1080 frame
    write_video(data / "large.mp4", np.stack([np.roll(big, 4 * i, axis=1) for i in range(120)]), 25)
    (tmp_path / "clips.csv").write_text("path,label,group\ndata/long.mp4,neutral,train\n"
                                        "data/large.mp4,happiness,train\n")
    config = {"dataset": {"name": "big", "format": "table", "annotations": "clips.csv", "classes": CLASSES},
              "chunk_size": 2, "train": {"enabled": False}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    dry = snakemake(tmp_path, "-n", "--cores", "1", "results/big/frames/train-0000.parquet")
    mem_mb = int(re.search(r"mem_mb=(\d+)", dry.stdout).group(1))
    snakemake(tmp_path, "--cores", "1", "results/big/frames/train-0000.parquet")
    bench = (tmp_path / "results/big/benchmarks/frames/train-0000.tsv").read_text().splitlines()
    max_rss = float(dict(zip(bench[0].split("\t"), bench[1].split("\t")))["max_rss"])
    print(f"frames job with a 900-frame and a 1920x1080 clip: peak RSS {max_rss:.0f} MB, rule asks {mem_mb} MB")
    assert max_rss < mem_mb


@pytest.mark.e2e
def test_a_wrong_root_stops_before_any_job(tmp_path):
    """A dataset.root that does not exist ends a real run in one ConfigError line naming it and a path looked
    for, before any job; a dry run (the tests, --dag) still plans the run."""
    (tmp_path / "clips.csv").write_text("path,label,group\nclips/a.mp4,neutral,train\nclips/b.mp4,happiness,test\n")
    config = {"dataset": {"name": "elsewhere", "format": "table", "annotations": "clips.csv", "classes": CLASSES,
                          "root": str(tmp_path / "nowhere")}, "chunk_size": 2, "train": {"enabled": False}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp_path, "-n", "--cores", "1", "shards")
    run = snakemake(tmp_path, "--cores", "1", "shards", check=False)
    assert run.returncode != 0
    expected = (f"dataset elsewhere: dataset.root {tmp_path / 'nowhere'} is not a folder (looked for e.g. "
                f"{tmp_path / 'nowhere/clips'}/")
    assert expected in run.stderr and "set dataset.root" in run.stderr
    assert not (tmp_path / "logs").exists() and not (tmp_path / "results/elsewhere/frames").exists()


def test_partly_missing_sources_warn_and_none_found_is_an_error(tmp_path, capsys):
    from fineclipper.config import load_config
    from fineclipper.datasets.demo import write_video
    from fineclipper.errors import ConfigError
    from fineclipper.workflow import check_sources, plan_dataset

    write_video(tmp_path / "a.mp4", np.zeros((4, 32, 32, 3), np.uint8), 25)
    (tmp_path / "clips.csv").write_text("path,label,group\na.mp4,neutral,train\ngone.mp4,happiness,train\n")
    dataset = {"name": "partly", "format": "table", "annotations": str(tmp_path / "clips.csv"), "classes": CLASSES}
    config = load_config(overrides={"dataset": dataset, "train": {"enabled": False}, "results": str(tmp_path)})
    check_sources(plan_dataset(config, tested=False))
    assert f"warning: dataset partly: 1 of 2 sources looked for are missing (e.g. {tmp_path / 'gone.mp4'})" \
        in capsys.readouterr().err
    (tmp_path / "a.mp4").unlink()
    with pytest.raises(ConfigError, match=f"none of 2 sources looked for exists under {tmp_path}"):
        check_sources(plan_dataset(config, tested=False))
