"""Every script in benchmarks/ runs, on a tiny setting: a benchmark that breaks fails the suite."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from fineclipper import REPO_ROOT as REPO

#: script -> (tiny arguments, a line its output must hold); {shards} is filled in by the test.
TINY_ARGUMENTS = {
    "preprocess.py": (["--demo-clips", "1", "--frames", "8", "--repeats", "1"], "landmark stage frames/s"),
    "dag.py": ([], "no-op rerun with every output up to date"),
    "loader.py": (["--shards", "{shards}", "--repeats", "1"], "ratio ours / folder-style"),
    "params.py": (["--clip-model", "FC-Tiny"], "ours/paper"),
    "gpu_step.py": (["--clip-model", "FC-Tiny", "--batch-size", "2", "--frames", "4", "--steps", "1"], "train step"),
    "sam.py": (["--model-type", "SAM-Tiny", "--clips", "2", "--frames", "2", "--batch-size", "2", "--repeats", "1"],
               "fast / reference"),
    "rehearsal.py": (["--datasets", "mafw", "--lines", "12", "--clips-per-group", "2"], "run: 2 clips per group"),
    "predict.py": (["--clips", "1", "--frames", "8", "--models", "FC-Tiny"], "clips/s"),
    "describe.py": (["--smoke"], "videos/s"),
}
NEEDS = {"describe.py": "vllm"}  # scripts that need an optional package


#: modules in benchmarks/ that are no benchmark: what the GPU benchmarks share
SHARED = {"hardware.py"}


def test_every_benchmark_has_a_tiny_setting():
    assert sorted(p.name for p in (REPO / "benchmarks").glob("*.py") if p.name not in SHARED) == sorted(TINY_ARGUMENTS)


def test_flops_are_counted_and_mfu_follows_from_them():
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import hardware
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    a, b = torch.ones(8, 16), torch.ones(16, 4)
    assert hardware.count_flops(lambda: a @ b) == 2 * 8 * 16 * 4
    # 1 TFLOP an item at 100 items/s on a 400 TFLOP/s device: a quarter of its peak
    assert hardware.mfu(1e12, 100, 400.0) == pytest.approx(0.25)
    assert hardware.mfu(1e12, 100, None) is None
    cpu = torch.device("cpu")
    assert hardware.peak_tflops(cpu) is None and hardware.peak_tflops(cpu, 123.0) == 123.0
    assert "MFU 25.0%" in hardware.figures(1e12, 100, cpu, 400.0, "clips")
    peaks = {"NVIDIA H100 80GB HBM3": 989.0, "NVIDIA H100 NVL": 835.0, "NVIDIA H100 PCIe": 756.0,
             "NVIDIA L40": 181.0, "NVIDIA L40S": 362.0, "NVIDIA L4": 121.0, "NVIDIA H200": 989.0}
    assert {name: hardware.peak_of(name) for name in peaks} == peaks
    assert hardware.peak_of("Some Future GPU") is None


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Two small shards of 24-frame clips, for the loader benchmark."""
    import cv2

    from fineclipper.shards import make_sample, write_shard

    folder = tmp_path_factory.mktemp("shards")
    rng = np.random.default_rng(0)
    for s in range(2):
        samples = []
        for i in range(3):
            frames = [cv2.imencode(".jpg", rng.integers(0, 255, (64, 64, 3), dtype=np.uint8))[1].tobytes()
                      for _ in range(24)]
            masks = [cv2.imencode(".png", rng.integers(0, 11, (64, 64), dtype=np.uint8))[1].tobytes()
                     for _ in range(24)]
            points = rng.uniform(0.2, 0.8, (24, 478, 3)).astype(np.float32)
            samples.append(make_sample(f"clip{s}_{i}", frames, masks, points, "still", i % 2, {"group": "train"}))
        write_shard(folder / f"train-{s:04d}.tar", samples)
    return str(folder / "*.tar")


def dag_figures(output: str) -> None:
    """A stand-in folder per FERV39K clip listed; its chunks at the default 250 clips; six jobs per chunk
    (four stages, describe's table put in place, pack) and the summary and `all`."""
    from fineclipper.datasets import SHIPPED_ANNOTATIONS
    from fineclipper.datasets.foldlists import SPECS, read_fold_lists
    from fineclipper.datasets.manifest import plan_chunks

    rows, _ = read_fold_lists(SPECS["ferv39k"], SHIPPED_ANNOTATIONS, "/data")
    folders = int(re.search(r"^(\d+) stand-in frame folders", output, re.M).group(1))
    chunks, jobs = map(int, re.search(r"dry run of the whole DAG \((\d+) chunks, (\d+) jobs\)", output).groups())
    assert folders == len(rows) and chunks == len(plan_chunks(rows, 250)) and jobs == 6 * chunks + 2


def loader_figures(output: str) -> None:
    """Every clip of the two 3-clip shards exported and read, 16 frames each (the default)."""
    assert re.search(r"^6 clips x 16 frames x 3 streams", output, re.M)


def params_figures(output: str) -> None:
    """The table's totals are tunable_counts' (in millions, two decimals)."""
    from fineclipper.model import VARIANTS
    from fineclipper.model.params import tunable_counts

    totals = [float(v) for v in re.search(r"^total\s+(.*)$", output, re.M).group(1).split()]
    assert totals == [round(tunable_counts("FC-Tiny", v)["total_tunable"] / 1e6, 2) for v in VARIANTS]


def preprocess_figures(output: str) -> None:
    """The same demo clips as video files, frame folders and face-crop folders: the same clips and kept frames."""
    rounds = re.findall(r"^\[(video files|frame folders|face-crop folders), crop: \w+\] (\d+) clips, (\d+) kept frames",
                        output, re.M)
    assert [name for name, *_ in rounds] == ["video files", "frame folders", "face-crop folders"]
    assert len({(clips, frames) for _, clips, frames in rounds}) == 1 and int(rounds[0][2]) > 0


def rehearsal_figures(output: str) -> None:
    """The MAFW run: as many jobs of every chunk stage, one train and one evaluate per fold, one report."""
    total, listed = re.search(r"^run: 2 clips per group, (\d+) jobs \((.*)\)", output, re.M).groups()
    jobs = {name: int(n) for name, n in (item.split() for item in listed.split(", "))}
    assert len({jobs[s] for s in ("frames", "landmarks", "masks", "describe", "pack")}) == 1
    assert jobs["train"] == jobs["evaluate"] == 5 and jobs["report"] == jobs["all"] == 1
    assert sum(jobs.values()) == int(total)


#: script -> a check of the figures of its output that the tiny setting fixes (the rest are timings)
FIGURES = {"dag.py": dag_figures, "loader.py": loader_figures, "params.py": params_figures,
           "preprocess.py": preprocess_figures, "rehearsal.py": rehearsal_figures}


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.parametrize("script", sorted(TINY_ARGUMENTS))
def test_benchmark_runs(script, shards):
    if script in NEEDS and importlib.util.find_spec(NEEDS[script]) is None:
        pytest.skip(f"{script} needs {NEEDS[script]}, which this environment does not have")
    args, expected = TINY_ARGUMENTS[script]
    cmd = [sys.executable, str(REPO / "benchmarks" / script), *(a.format(shards=shards) for a in args)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout, result.stdout[-2000:]
    if script in FIGURES:
        FIGURES[script](result.stdout)
