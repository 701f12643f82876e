"""The vllm describer without vLLM: its config errors, the video it hands the engine, the interpreter it runs
in; and how the describe stage batches: a failing batch bisected, several chunks per job."""

import importlib.util
import json
import logging
import os
import re
import sys

import numpy as np
import pyarrow as pa
import pytest
from helpers import jpeg, planned_jobs, snakemake, write_config

from fineclipper.config import load_config
from fineclipper.describe import get_describer
from fineclipper.describe.landmarks import LandmarkDescriber
from fineclipper.describe.vllm import chosen_frames, prompt_file, video_input
from fineclipper.io import npy_bytes, read_table, write_table
from fineclipper.stages.common import backend_python
from fineclipper.stages.describe import ChunkPaths, DescriberDown, describe_all, run_chunks


def _describe_config(**settings) -> dict:
    return load_config(overrides={"describe": {"backend": "vllm", **settings}})["describe"]


def test_model_is_required():
    with pytest.raises(ValueError, match="describe.model: the vllm backend needs a model"):
        _describe_config()


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_missing_vllm_says_how_to_set_it_up():
    with pytest.raises(ImportError, match=r"vLLM is not installed .*workflow/envs/vllm-venv.sh.*--sdm conda"):
        get_describer("vllm", _describe_config(model="Qwen/Qwen2.5-VL-7B-Instruct"))


#: The MLLM prompt word for word as the paper prints it (quoted in the design notes, section 4).
PAPER_PROMPT = ("You are a facial expression analyst. Identify emotions by analyzing the detailed movements of "
                "various facial features (mouth, chin, eyes, etc.) and implied actions (breathing rate, gaze "
                "direction) across a sequence. Provide a detailed description of the movements of various facial "
                "features and implied actions concisely.")


def test_default_prompt_is_the_papers():
    assert prompt_file(_describe_config(model="m")).read_text() == PAPER_PROMPT + "\n"


def test_frames_spread_over_the_clip():
    assert chosen_frames(24, 8) == [0, 3, 7, 10, 13, 16, 20, 23]
    assert chosen_frames(5, 8) == [0, 1, 2, 3, 4]


def test_video_input_shrinks_frames_and_keeps_their_timing():
    clip = {"jpegs": [jpeg(np.full((240, 320, 3), 10 * i, np.uint8)) for i in range(12)], "fps": 30.0,
            "indices": list(range(0, 48, 4))}
    frames, meta = video_input(clip, frames=4, max_pixels=224 * 224, fallback_fps=25.0)
    assert frames.dtype == np.uint8 and frames.shape[0] == 4 and frames.shape[1] * frames.shape[2] <= 224 * 224
    assert abs(frames.shape[2] / frames.shape[1] - 320 / 240) < 0.02
    assert meta["frames_indices"] == [0, 16, 28, 44] and meta["total_num_frames"] == 45 and meta["fps"] == 30.0
    assert meta["do_sample_frames"] is False and abs(frames[-1].mean() - 110) < 3
    frame_folder = {**clip, "fps": 0.0}
    assert video_input(frame_folder, 4, 224 * 224, 25.0)[1]["fps"] == 25.0


def test_relative_python_is_made_absolute_from_the_working_directory(tmp_path, monkeypatch):
    """describe.python ``venv/bin/python`` names the working directory's environment wherever the job then
    runs, and stays the environment's own python, not the interpreter its symlink points to."""
    (tmp_path / "venv/bin").mkdir(parents=True)
    (tmp_path / "venv/bin/python").symlink_to(sys.executable)
    monkeypatch.chdir(tmp_path)
    python = backend_python("describe", _describe_config(model="m", python="venv/bin/python"))
    assert python == str(tmp_path / "venv/bin/python") and os.path.isabs(python)
    monkeypatch.chdir(tmp_path / "venv")  # the working directory decides: from here the path names nothing
    assert backend_python("describe", _describe_config(model="m", python="venv/bin/python")) == \
        str(tmp_path / "venv/venv/bin/python")


def _clip(index: int, points: int = 478) -> dict:
    """A clip the landmark describer reads: a mouth that opens over 12 frames (``points`` landmarks)."""
    landmarks = np.random.default_rng(index).normal(0.5, 0.1, (12, points, 3)).astype(np.float32)
    return {"id": f"clip{index}", "landmarks": landmarks, "detected": [True] * 12, "fps": 25.0,
            "indices": list(range(12)), "jpegs": []}


def test_a_failing_batch_is_bisected_down_to_the_bad_clip(caplog):
    """Eight clips, the sixth with a broken landmark array: the batch, then the halves that hold it fail
    (8, 4, 2 clips: three splits, not eight clip-by-clip calls); every other clip gets the text it gets alone."""
    describer = LandmarkDescriber()
    clips = [_clip(i, points=5 if i == 5 else 478) for i in range(8)]
    with caplog.at_level(logging.WARNING, logger="fineclipper"):
        pairs, failures = describe_all(describer, clips)
    splits = [r.message for r in caplog.records if "describing its halves" in r.message]
    assert [m.split(" clips")[0].rsplit(" ", 1)[1] for m in splits] == ["8", "4", "2"]
    assert [f["id"] for f in failures] == ["clip5"] and failures[0]["reason"].startswith("IndexError")
    assert [clip["id"] for clip, _ in pairs] == [f"clip{i}" for i in range(8) if i != 5]
    assert [text for _, text in pairs] == [describer.describe([clip])[0] for clip, _ in pairs]


def _write_chunk(folder, name: str, points: list[int]) -> ChunkPaths:
    """A chunk's manifest, frames and landmarks tables as the earlier stages write them: one clip per entry of
    ``points`` (its landmark count; the describer needs 478)."""
    clips = [_clip(i, points=n) for i, n in enumerate(points)]
    paths = ChunkPaths(*(str(folder / f"{name}.{kind}") for kind in
                         ("json", "frames.parquet", "landmarks.parquet", "parquet", "failures.parquet")))
    (folder / f"{name}.json").write_text(json.dumps({"chunk": name, "classes": ["happiness"], "rows": []}))
    write_table(paths.frames, pa.Table.from_pylist([{k: c[k] for k in ("id", "fps", "indices", "jpegs")}
                                                    for c in clips]))
    write_table(paths.landmarks, pa.Table.from_pylist([{"id": c["id"], "landmarks": npy_bytes(c["landmarks"]),
                                                        "detected": c["detected"]} for c in clips]))
    return paths


def test_a_chunk_whose_every_clip_fails_in_describing_fails_the_job(tmp_path):
    """The landmark describer on three chunks: one clip of the first cannot be described (a failure row, the
    job goes on); the second has no clip (all failed upstream: an empty table); every clip of the third
    fails in describing, as when an engine dies: the job fails naming that chunk and the error, and writes
    no table for it, so Snakemake reruns it instead of recording it as described."""
    config = load_config()["describe"]
    some, none, every = (_write_chunk(tmp_path, name, points) for name, points in
                         (("some", [478, 5, 478]), ("none", []), ("every", [5, 5])))
    with pytest.raises(DescriberDown, match=r"all 2 clips of chunk \S*every\.json failed .*IndexError"):
        run_chunks([some, none, every], config, progress=False)
    assert read_table(some.output).column("id").to_pylist() == ["clip0", "clip2"]
    assert read_table(some.failures).column("id").to_pylist() == ["clip1"]
    assert read_table(none.output).num_rows == 0 and read_table(none.failures).num_rows == 0
    assert not os.path.exists(every.output) and not os.path.exists(every.failures)


@pytest.mark.e2e
def test_a_describe_job_covers_chunks_per_job_chunks(tmp_path):
    """Planned: the demo's 5 chunks in describe jobs of 2 (3 jobs, one model load each), one table per chunk
    copied where pack reads it; the vllm backend's default covers all 5 in one job."""
    write_config(tmp_path, "config.yaml", dataset={"name": "demo", "format": "demo"}, chunk_size=5,
                 demo={"clips_per_class": 5, "test_per_class": 1, "frames": 12, "size": 160},
                 train={"enabled": False}, describe={"chunks_per_job": 2})
    plan = snakemake(tmp_path, "-n", "--cores", "1", "shards")
    chunks = sorted(p.stem for p in (tmp_path / "results/demo/chunks").glob("*.json"))
    assert len(chunks) == 5
    assert {k: v for k, v in planned_jobs(plan).items() if k.startswith("describe")} == {"describe": 3,
                                                                                        "describe_chunk": 5}
    jobs = {re.search(r"chunk=(\S+)", block).group(1): re.search(r"input: (.*)", block).group(1)
            for block in plan.stdout.split("rule describe:")[1:]}
    assert sorted(jobs) == chunks[::2]  # each job is named by its first chunk
    frames_read = {first: sorted(re.findall(r"frames/(\S+)\.parquet", inputs)) for first, inputs in jobs.items()}
    assert frames_read == {chunks[0]: chunks[0:2], chunks[2]: chunks[2:4], chunks[4]: chunks[4:]}
    write_config(tmp_path, "vllm.yaml", describe={"backend": "vllm", "model": "Qwen/Qwen2.5-VL-7B-Instruct",
                                                  "chunks_per_job": None})
    plan = snakemake(tmp_path, "-n", "--cores", "1", "shards", configs=("config.yaml", "vllm.yaml"))
    assert planned_jobs(plan)["describe"] == 1 and planned_jobs(plan)["describe_chunk"] == 5
