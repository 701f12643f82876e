"""The Snakemake pipeline end to end on real clips and every kind of bad input, its rerun semantics,
its profiles, and the shards it writes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers import CLASSES, planned_jobs, snakemake, write_config
from media import frame_folder, noise_clip, still_clip, truncated_copy

from fineclipper import REPO_ROOT
from fineclipper.backends import DESCRIBERS
from fineclipper.datasets.demo import render_clip, write_video
from fineclipper.paths import STAGES
from fineclipper.shards import decode_sample, iter_raw

pytestmark = pytest.mark.e2e
# source name -> (label, group, expected failure reason or None)
CLIPS = {
    "carphone.mp4": ("neutral", "train", None),
    "astronaut_frames": ("happiness", "train", None),
    "demo_surprise.mp4": ("surprise", "test", None),
    "demo_anger.mp4": ("anger", "test", None),
    "missing.mp4": ("anger", "train", "missing source"),
    "empty.mp4": ("anger", "train", "empty video file"),
    "truncated.mp4": ("neutral", "test", "cannot decode"),
    "text.mp4": ("neutral", "test", "cannot decode"),
    "noise.mp4": ("surprise", "train", "no face|face landmarks found in 0 of"),  # the detector or Face Mesh
    "short.mp4": ("happiness", "test", "too few frames"),
}


@pytest.fixture(scope="module")
def run(tmp_path_factory, carphone, astronaut, astronaut_face):
    workdir = tmp_path_factory.mktemp("pipeline")
    data = workdir / "data"
    data.mkdir()
    (data / "carphone.mp4").write_bytes(carphone.read_bytes())
    frame_folder(data / "astronaut_frames", [np.roll(astronaut_face, s, axis=1) for s in range(0, 12, 2)])
    cfg = {"frames": 10, "size": 160, "fps": 25, "seed": 0}
    for cls in ("surprise", "anger"):
        write_video(data / f"demo_{cls}.mp4", render_clip(cls, 1, cfg), 25)
    (data / "empty.mp4").write_bytes(b"")
    (data / "text.mp4").write_text("not a video\n" * 100)
    truncated_copy(carphone, data / "truncated.mp4")
    noise_clip(data / "noise.mp4")
    still_clip(data / "short.mp4", astronaut[::2, ::2], 2)
    lines = ["path,label,group"] + [f"data/{name},{label},{group}" for name, (label, group, _) in CLIPS.items()]
    (workdir / "clips.csv").write_text("\n".join(lines) + "\n")
    write_config(workdir, "config.yaml",
                 dataset={"name": "mini", "format": "table", "annotations": "clips.csv", "classes": CLASSES},
                 chunk_size=4, frames={"max_frames": 8}, train={"enabled": False})
    result = snakemake(workdir, "--cores", "2", "all")
    return workdir, result


def shards_of(workdir: Path) -> list[Path]:
    return sorted((workdir / "shards" / "mini").glob("*.tar"))


def test_every_video_is_in_a_shard_or_a_failures_table(run):
    workdir, _ = run
    packed = {raw["__key__"] for shard in shards_of(workdir) for raw in iter_raw(shard)}
    failures = [f for t in sorted((workdir / "shards" / "mini").glob("*.failures.parquet"))
                for f in pq.read_table(t).to_pylist()]
    failed = {f["id"]: f for f in failures}
    assert len(failed) == len(failures) and not packed & set(failed)
    ids = {f"data_{Path(name).stem}" for name in CLIPS}
    assert packed | set(failed) == ids
    for name, (_, _, reason) in CLIPS.items():
        vid = f"data_{Path(name).stem}"
        if reason is None:
            assert vid in packed, failed.get(vid)
        else:
            assert re.search(reason, failed[vid]["reason"]) and failed[vid]["stage"] in ("frames", "landmarks")
    summary = json.loads((workdir / "results" / "mini" / "summary.json").read_text())
    assert summary["videos"] == len(CLIPS) and summary["packed"] == 4 and summary["failed"] == 6
    # Reasons count by kind (two clips fail to decode, each its own path in the failures table).
    assert summary["failure_reasons"]["frames: cannot decode <source>"] == 2
    assert summary["failure_reasons"]["frames: missing source"] == 1 and summary["partial_clips"] == 0
    output = run[1].stdout + run[1].stderr
    assert "warning (failures.strict: false): 60.0% of videos failed, more than max_failed_fraction 5.0%" in output
    assert "warning: dataset mini: 1 of 10 sources looked for are missing" in output


def test_samples_hold_every_stream(run):
    workdir, _ = run
    for shard in shards_of(workdir):
        for raw in iter_raw(shard):
            sample = decode_sample(raw)
            n = len(sample["frames"])
            assert 4 <= n <= 8 and len(sample["masks"]) == n and sample["landmarks"].shape == (n, 478, 3)
            assert sample["frames"][0].shape == (224, 224, 3) and sample["masks"][0].shape == (224, 224)
            assert sample["masks"][0].max() > 0 and sample["description"].startswith("The face is visible")
            meta = sample["meta"]
            assert CLASSES[sample["label"]] == meta["label_name"] and meta["dataset"] == "mini"
            assert len(meta["frame_indices"]) == n and meta["detection_rate"] > 0.5
            assert meta["stage_versions"]["frames"] >= 1 and "." not in sample["key"]
    surprise = next(decode_sample(r) for s in shards_of(workdir) for r in iter_raw(s)
                    if r["__key__"] == "data_demo_surprise")
    assert "mouth opens" in surprise["description"]


LOG_COUNTS = re.compile(r"INFO (\w+): (\d+) ok, (\d+) failed$", re.M)


def test_logs_and_benchmarks_for_every_job(run):
    """One log and one benchmark per chunk and stage; a stage log says what its tables hold (ok and failed
    counts), pack's what the shard and its failures table hold; no native library noise in any log."""
    workdir, _ = run
    chunks = sorted(p.stem for p in (workdir / "results/mini/chunks").glob("*.json"))
    assert len(chunks) == len(shards_of(workdir)) > 1
    for stage in (*STAGES, "pack"):
        assert sorted(p.stem for p in (workdir / "logs/mini" / stage).glob("*")) == chunks
        assert sorted(p.stem for p in (workdir / "results/mini/benchmarks" / stage).glob("*")) == chunks
        for chunk in chunks:
            bench = (workdir / f"results/mini/benchmarks/{stage}/{chunk}.tsv").read_text().splitlines()
            assert bench[0].startswith("s\th:m:s\tmax_rss") and len(bench) == 2 and float(bench[1].split()[0]) > 0
    for chunk in chunks:
        for stage in STAGES:
            log = (workdir / f"logs/mini/{stage}/{chunk}.log").read_text()
            assert not re.search(r"^(W0000|I0000|E0000|WARNING: All log messages)", log, re.M), log[:2000]
            counts = LOG_COUNTS.findall(log)
            ok = pq.read_metadata(workdir / f"results/mini/{stage}/{chunk}.parquet").num_rows
            failed = pq.read_metadata(workdir / f"results/mini/{stage}/{chunk}.failures.parquet").num_rows
            assert counts == [(stage, str(ok), str(failed))], (chunk, stage, counts)
        pack_log = (workdir / f"logs/mini/pack/{chunk}.log").read_text()
        packed = json.loads(re.search(r"INFO pack \S+: (\{.*\})$", pack_log, re.M).group(1))
        shard = workdir / f"shards/mini/{chunk}.tar"
        failed = pq.read_metadata(shard.with_suffix(".failures.parquet")).num_rows
        assert packed == {"videos": packed["packed"] + failed, "packed": len(list(iter_raw(shard))), "failed": failed}


def test_nothing_changed_nothing_reruns(run):
    workdir, _ = run
    assert planned_jobs(snakemake(workdir, "-n", "--cores", "2", "all")) == {}


def test_describe_settings_rerun_describe_and_pack_only(run):
    workdir, _ = run
    write_config(workdir, "describe.yaml", describe={"extra_leakage_words": ["tense"]})
    jobs = planned_jobs(snakemake(workdir, "-n", "--cores", "2", "all", configs=("config.yaml", "describe.yaml")))
    chunks = len(shards_of(workdir))
    assert jobs == {"describe": chunks, "describe_chunk": chunks, "pack": chunks, "summary": 1, "all": 1}


def test_vllm_backend_model_prompt_and_sampling_rerun_describe_and_pack_only(run, tmp_path):
    """Planned without vLLM: switching to the vllm backend plans describe on a GPU, with the model's host
    memory; from outputs recorded as made by it (``--touch``, on a copy of the run), another model, prompt
    content or sampling replans describe and what follows, touching the prompt file plans nothing."""
    workdir = tmp_path / "run"
    shutil.copytree(run[0], workdir, symlinks=True)
    chunks = len(shards_of(workdir))
    jobs = -(-chunks // DESCRIBERS["vllm"].chunks_per_job)  # describe jobs: chunks_per_job chunks each
    rerun = {"describe": jobs, "describe_chunk": chunks, "pack": chunks, "summary": 1, "all": 1}
    prompt = workdir / "prompt.txt"
    prompt.write_text("Describe the movements of the face.\n")
    vllm = {"backend": "vllm", "model": "Qwen/Qwen2.5-VL-7B-Instruct", "prompt": "prompt.txt"}

    def plan(**settings):
        write_config(workdir, "vllm.yaml", describe={**vllm, **settings})
        return snakemake(workdir, "-n", "--cores", "2", "all", configs=("config.yaml", "vllm.yaml"))

    switched = plan()
    assert planned_jobs(switched) == rerun
    resources = re.search(r"rule describe:(?:\n .*)*?\n\s+resources: (.*)", switched.stdout).group(1).split(", ")
    assert "gpu=1" in resources and int(next(r for r in resources if r.startswith("mem_mb="))[7:]) > 30000
    snakemake(workdir, "--touch", "--cores", "2", "all", configs=("config.yaml", "vllm.yaml"))
    assert planned_jobs(plan(model="Qwen/Qwen2.5-VL-3B-Instruct")) == rerun
    assert planned_jobs(plan(sampling={"temperature": 0.7})) == rerun
    prompt.touch()
    assert planned_jobs(plan()) == {}
    prompt.write_text("Describe the movements of the mouth.\n")
    assert planned_jobs(plan()) == rerun


def test_frames_settings_rerun_everything_downstream(run):
    workdir, _ = run
    write_config(workdir, "frames.yaml", frames={"max_frames": 8, "jpeg_quality": 80})
    jobs = planned_jobs(snakemake(workdir, "-n", "--cores", "2", "all", configs=("config.yaml", "frames.yaml")))
    chunks = len(shards_of(workdir))
    stages = ("frames", "landmarks", "masks", "describe", "describe_chunk", "pack")
    assert jobs == {s: chunks for s in stages} | {"summary": 1, "all": 1}


def test_profiles_dry_run(run):
    """Dry runs of a landmarks change: locally the workflow profile is picked up (its printshellcmds shows
    each planned command, which no command-line option asked for); with the SLURM profile each chunk's
    jobs are one preprocess group and every job gets the profile's default runtime of 60 minutes (describe too: its
    jobs cover one chunk here; tests/test_slurm.py checks N chunks get N times that)."""
    workdir, _ = run
    write_config(workdir, "masks.yaml", landmarks={"min_tracking_confidence": 0.6})
    configs = ("config.yaml", "masks.yaml")
    chunks = len(shards_of(workdir))
    local = snakemake(workdir, "-n", "--cores", "2", "all", configs=configs)
    output = local.stdout + local.stderr
    assert f"Using workflow specific profile {REPO_ROOT}" in output
    assert len(re.findall(r"^Shell command: .* -m fineclipper\.stages\.landmarks ", output, re.M)) == chunks
    slurm = snakemake(workdir, "-n", "--profile", str(REPO_ROOT / "workflow/profiles/slurm"), "all", configs=configs)
    output = slurm.stdout + slurm.stderr
    assert planned_jobs(slurm)["landmarks"] == chunks
    assert len(re.findall(r"Group job preprocess ", output)) == chunks
    runtimes = re.findall(r"^\s+resources: .*\bruntime=(\d+)", output, re.M)
    assert runtimes and set(runtimes) == {"60"}


def test_inspect_prints_and_draws(run, tmp_path):
    workdir, _ = run
    sheet = tmp_path / "sheet.png"
    out = subprocess.run([sys.executable, "-m", "fineclipper.cli", "inspect",
                          str(workdir / "shards/mini/test-0000.tar"), "--key", "data_demo_anger",
                          "--sheet", str(sheet)], capture_output=True, text=True, check=True)
    assert "label: 3 = anger" in out.stdout and "landmarks: (478, 3)" in out.stdout
    from PIL import Image

    with Image.open(sheet) as im:
        assert im.width >= 8 * 224 and im.height > 3 * 224
    shard = workdir / "shards/mini/test-0000.tar"
    missing = subprocess.run([sys.executable, "-m", "fineclipper.cli", "inspect", str(shard), "--key", "nope"],
                             capture_output=True, text=True)
    assert missing.returncode == 2
    assert missing.stderr == f"fineclipper inspect: error: {shard}: no sample with key 'nope'\n"


def test_bad_config_and_annotation_errors_name_the_problem(run):
    workdir, _ = run
    write_config(workdir, "bad.yaml", chunk_size=0)
    result = snakemake(workdir, "-n", "all", configs=("config.yaml", "bad.yaml"), check=False)
    assert result.returncode and "chunk_size" in result.stderr + result.stdout
    (workdir / "bad.csv").write_text("path,label,group\ndata/carphone.mp4,bored,train\n")
    write_config(workdir, "badtable.yaml", dataset={"annotations": "bad.csv"})
    result = snakemake(workdir, "-n", "all", configs=("config.yaml", "badtable.yaml"), check=False)
    assert result.returncode and "bad.csv:2: label 'bored'" in result.stderr + result.stdout


def test_strict_failures_stop_the_run(run, tmp_path):
    """On a copy of the run, so that no other test sees the summary it removes."""
    workdir = tmp_path / "run"
    shutil.copytree(run[0], workdir, symlinks=True)
    write_config(workdir, "strict.yaml", failures={"strict": True, "max_failed_fraction": 0.2})
    result = snakemake(workdir, "--cores", "1", "all", configs=("config.yaml", "strict.yaml"), check=False)
    assert result.returncode and "60.0% of videos failed" in result.stdout + result.stderr
    assert not (workdir / "results/mini/summary.json").exists() and (run[0] / "results/mini/summary.json").exists()
    assert planned_jobs(snakemake(workdir, "-n", "shards")) == {"summary": 1, "shards": 1}  # it writes one too
