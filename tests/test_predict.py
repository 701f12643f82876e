"""`fineclipper predict` on new videos, self-contained checkpoints, and unlabelled datasets through Snakemake."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
import torch
import yaml
from helpers import snakemake

from fineclipper import REPO_ROOT

RUN = "results/demo/experiments/main/seed0"


def predict_cli(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "fineclipper.cli", "predict",
           "--checkpoint", str(workdir / RUN / "train/test/best.pt"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.e2e
def test_the_checkpoint_records_its_preprocessing(demo_run):
    state = torch.load(demo_run / RUN / "train/test/best.pt", weights_only=True)
    assert set(state["preprocessing"]) == {"frames", "landmarks", "masks", "describe", "stage_versions"}
    assert (state["preprocessing"]["frames"]["max_frames"] == 8
            and state["preprocessing"]["stage_versions"]["frames"] >= 2)
    fc_tiny = json.loads((REPO_ROOT / "resources/model_configs/FC-Tiny.json").read_text())  # recorded: not open_clip's
    assert state["clip"] == {"model": "FC-Tiny", "pretrained": None, "architecture": fc_tiny}
    assert state["classes"][0] == "neutral"


@pytest.mark.e2e
def test_predict_on_the_test_videos_agrees_with_the_evaluation(demo_run, tmp_path):
    """Online preprocessing of the videos gives what evaluate gives on their shard: the same probabilities,
    hence the same accuracy."""
    evaluated = {r["id"]: r for r in read_csv(demo_run / RUN / "eval/test/predictions.csv")}
    videos = [str(demo_run / "results/demo/videos" / f"{key}.mp4") for key in evaluated]
    result = predict_cli(demo_run, *videos, "--out", str(tmp_path / "p.csv"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "No pretrained weights loaded" not in result.stderr  # open_clip's, before the checkpoint's weights load
    predicted = {r["id"]: r for r in read_csv(tmp_path / "p.csv")}
    assert set(predicted) == set(evaluated)
    classes = json.loads((demo_run / RUN / "eval/test/metrics.json").read_text())["classes"]
    for key, row in predicted.items():
        for c in classes:
            assert float(row[f"p_{c}"]) == pytest.approx(float(evaluated[key][f"p_{c}"]), abs=1e-4), (key, c)
    accuracy = sum(predicted[k]["predicted"] == evaluated[k]["label"] for k in predicted) / len(predicted)
    war = json.loads((demo_run / RUN / "eval/test/metrics.json").read_text())["war"]
    assert accuracy == pytest.approx(war)
    for key in predicted:  # one line per clip: the top classes and the description
        assert any(line.startswith(f"{key}: ") and " | The face is visible" in line
                   for line in result.stdout.splitlines())


@pytest.mark.e2e
def test_an_unusable_clip_is_a_row_with_its_reason(demo_run, tmp_path):
    """A clip that cannot be used is a row with its reason; one cut short is predicted from what is left, and
    its row says how much that is."""
    from fineclipper.datasets.demo import write_video
    from fineclipper.video import read_clip

    (tmp_path / "notes.mp4").write_text("not a video\n" * 50)
    video = demo_run / "results/demo/videos/anger_000.mp4"
    frames = read_clip(video, 1000).frames
    write_video(tmp_path / "whole.mp4", np.stack(frames * 2), 25, faststart=True)  # twice: enough left at 60%
    whole = (tmp_path / "whole.mp4").read_bytes()
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) * 6 // 10])
    result = predict_cli(demo_run, str(video), str(tmp_path / "notes.mp4"), str(tmp_path / "gone.mp4"),
                         str(tmp_path / "cut.mp4"), "--out", str(tmp_path / "p.json"), "--sheet",
                         str(tmp_path / "sheets"), "--top-k", "2")
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["id"]: r for r in json.loads((tmp_path / "p.json").read_text())}
    assert rows["anger_000"]["status"] == "ok" and rows["anger_000"]["top"].count(";") == 1
    assert re.fullmatch(rf"\d+ of {len(frames)}", rows["anger_000"]["frames"]), rows["anger_000"]["frames"]
    cut = re.fullmatch(rf"(\d+) of {2 * len(frames)} \(partial: (\d+) could not be decoded\)",
                       rows["cut"].get("frames", ""))
    assert rows["cut"]["status"] == "ok" and cut and 0 < int(cut[2]) < 2 * len(frames), rows["cut"]
    assert rows["notes"]["status"] == "failed" and "cannot decode" in rows["notes"]["reason"]
    assert "missing source" in rows["gone"]["reason"]
    assert sorted(p.name for p in (tmp_path / "sheets").glob("*.png")) == ["anger_000.png", "cut.png"]
    result = predict_cli(demo_run, str(video), "--checkpoint", str(tmp_path / "none.pt"))
    assert result.returncode == 2 and result.stderr.strip().endswith("no such file")


@pytest.mark.e2e
def test_an_unlabelled_dataset_gets_predictions_through_snakemake(demo_run, tmp_path):
    """A table without a label column: shards without `cls`, one predictions file per chunk and one merged
    with every clip; training it is refused with a message."""
    from fineclipper.shards import iter_raw

    videos = demo_run / "results/demo/videos"
    lines = ["path,group"] + [f"{videos / name}.mp4,{group}" for name, group in
                              (("neutral_001", "a"), ("happiness_002", "a"), ("anger_001", "b"), ("nowhere", "b"))]
    (tmp_path / "clips.csv").write_text("\n".join(lines) + "\n")
    config = {"dataset": {"name": "unl", "format": "table", "annotations": "clips.csv"}, "chunk_size": 2,
              "frames": {"max_frames": 8}, "train": {"enabled": False},
              "predict": {"checkpoint": str(demo_run / RUN / "train/test/best.pt")}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    snakemake(tmp_path, "--cores", "2", "predict")
    assert sorted(p.name for p in (tmp_path / "results/unl/predict").glob("*.csv")) == [
        "a-0000.csv", "b-0000.csv", "predictions.csv"]
    rows = read_csv(tmp_path / "results/unl/predict/predictions.csv")
    assert len(rows) == 4 and [r["status"] for r in rows].count("ok") == 3
    assert all("cls" not in raw for shard in (tmp_path / "shards/unl").glob("*.tar") for raw in iter_raw(shard))
    config["train"]["enabled"] = True
    config["frames"]["max_frames"] = 16
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    refused = snakemake(tmp_path, "--cores", "2", "-n", "all", check=False)
    assert refused.returncode and "dataset unl has no labels" in refused.stdout + refused.stderr


@pytest.mark.e2e
def test_predict_scores_any_class_names_and_says_so(demo_run, tmp_path):
    """--classes: the clips scored against other names through the label-text templates; every row says
    the vocabulary is open, and the terminal names the classes the checkpoint was trained on."""
    video = str(demo_run / "results/demo/videos/happiness_000.mp4")
    result = predict_cli(demo_run, video, "--classes", "joy, calm,astonishment", "--out", str(tmp_path / "p.csv"))
    assert result.returncode == 0, result.stderr[-3000:]
    (row,) = read_csv(tmp_path / "p.csv")
    assert row["vocabulary"] == "open" and row["predicted"] in {"joy", "calm", "astonishment"}
    assert sum(float(row[f"p_{c}"]) for c in ("joy", "calm", "astonishment")) == pytest.approx(1, abs=1e-4)
    assert "not trained on (joy, calm, astonishment)" in result.stderr and "neutral, happiness" in result.stderr
    same = predict_cli(demo_run, video, "--classes", "neutral,happiness,surprise,anger",
                       "--out", str(tmp_path / "t.csv"))
    assert read_csv(tmp_path / "t.csv")[0]["vocabulary"] == "trained" and "not trained on" not in same.stderr
    for bad, message in ((",joy", "an empty class name"), ("joy,joy", "joy listed twice"), ("joy", "at least two")):
        result = predict_cli(demo_run, video, "--classes", bad)
        assert result.returncode == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.e2e
def test_a_clip_stored_sideways_gets_the_upright_prediction(demo_run, tmp_path):
    """A phone's clip: frames stored turned, a rotation tag saying how to show them."""
    from media import rotation_tagged, write_clip

    from fineclipper.video import read_clip

    frames = np.stack(read_clip(demo_run / "results/demo/videos/happiness_000.mp4", 100).frames)
    write_clip(tmp_path / "upright.mp4", frames)
    rotation_tagged(tmp_path / "sideways.mp4", frames, 90)
    result = predict_cli(demo_run, str(tmp_path / "upright.mp4"), str(tmp_path / "sideways.mp4"),
                         "--out", str(tmp_path / "p.csv"))
    assert result.returncode == 0, result.stderr[-3000:]
    upright, sideways = read_csv(tmp_path / "p.csv")
    assert sideways["status"] == "ok" and sideways["predicted"] == upright["predicted"]
    classes = [key for key in upright if key.startswith("p_")]
    assert max(abs(float(upright[c]) - float(sideways[c])) for c in classes) < 0.02, (upright, sideways)


@pytest.mark.e2e
def test_a_bad_checkpoint_or_option_is_one_line_before_any_clip(demo_run, tmp_path):
    video = str(demo_run / "results/demo/videos/anger_000.mp4")
    best = (demo_run / RUN / "train/test/best.pt").read_bytes()
    (tmp_path / "half.pt").write_bytes(best[: len(best) // 2])
    torch.save({"state_dict": {"weight": torch.zeros(2)}}, tmp_path / "other.pt")
    cases = {
        ("--checkpoint", str(tmp_path / "half.pt")):
            f"checkpoint {tmp_path / 'half.pt'} cannot be read (PytorchStreamReader failed reading zip archive",
        ("--checkpoint", str(tmp_path / "other.pt")):
            "other.pt is not a FineCLIPER checkpoint: it has no model, model_config, classes (its keys: state_dict)",
        ("--top-k", "0"): "--top-k 0: must be at least 1",
        ("--batch-size", "-1"): "--batch-size -1: must be at least 1",
        ("--out", str(tmp_path / "nowhere" / "p.csv")): f"the folder {tmp_path / 'nowhere'} does not exist",
        ("--out", str(tmp_path)): f"--out {tmp_path}: is a folder",
    }
    for args, message in cases.items():
        result = predict_cli(demo_run, video, "--sheet", str(tmp_path / "sheets"), *args)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1 and message in lines[0], (args, result.stderr)
        assert lines[0].startswith("fineclipper predict: error: ")
        assert not result.stdout and not (tmp_path / "sheets").exists()  # no clip was processed


@pytest.mark.e2e
def test_a_mixed_bag_gets_one_row_per_argument_and_skipped_file(demo_run, tmp_path):
    """What a user's folder holds: a sideways phone clip, an empty folder, a folder of two videos (one an
    MPEG-TS without a known extension) with a thumbnail and notes, names in other scripts, a frame folder:
    every argument and every file skipped is a row, nothing about a name stops the run, and the sideways
    clip gets the upright one's prediction."""
    import shutil

    from media import frame_folder, rotation_tagged

    from fineclipper.video import read_clip

    videos = demo_run / "results/demo/videos"
    frames = np.stack(read_clip(videos / "happiness_000.mp4", 100).frames)
    rotation_tagged(tmp_path / "日本.mp4", frames, 270)
    (tmp_path / "empty").mkdir()
    clips = tmp_path / "clips"
    clips.mkdir()
    shutil.copy(videos / "surprise_000.mp4", clips / "été 1.mp4")
    with av.open(str(videos / "anger_000.mp4")) as source, \
            av.open(str(clips / "stream.bin"), "w", format="mpegts") as ts:
        video = source.streams.video[0]
        stream = ts.add_stream_from_template(video)
        for packet in source.demux(video):
            if packet.dts is not None:
                packet.stream = stream
                ts.mux(packet)
    frame_folder(tmp_path / "thumbs", frames[:1])
    shutil.copy(tmp_path / "thumbs" / "00000.jpg", clips / "cover.jpg")
    (clips / "notes.txt").write_text("shot on a phone\n")
    frame_folder(tmp_path / "frames", list(frames))
    args = [str(tmp_path / "日本.mp4"), str(tmp_path / "empty"), str(clips), str(tmp_path / "frames"),
            str(videos / "happiness_000.mp4")]
    result = predict_cli(demo_run, *args, "--out", str(tmp_path / "p.csv"))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {r["id"]: r for r in read_csv(tmp_path / "p.csv")}
    assert list(rows) == ["日本", "empty", "cover", "notes", "stream", "été_1", "frames", "happiness_000"]
    assert {k: r["status"] for k, r in rows.items()} == {
        "日本": "ok", "empty": "failed", "cover": "skipped", "notes": "skipped", "stream": "ok", "été_1": "ok",
        "frames": "ok", "happiness_000": "ok"}
    assert "thumbnail" in rows["cover"]["reason"] and "not a video FFmpeg can read" in rows["notes"]["reason"]
    assert rows["日本"]["predicted"] == rows["happiness_000"]["predicted"] == rows["frames"]["predicted"]
    assert "5 of 6 clips predicted, 2 files skipped" in result.stderr
    print(result.stdout)


def test_a_still_image_ffmpeg_opens_is_not_taken_for_a_video(tmp_path):
    """FFmpeg opens a TIFF (or a text file) as a one-frame video stream: in a frame folder it must not turn
    the folder into a folder of clips."""
    from PIL import Image

    from fineclipper.predict import expand_folder

    for i in range(3):
        Image.new("RGB", (32, 32), (i, i, i)).save(tmp_path / f"{i:03d}.jpg")
    Image.new("RGB", (32, 32)).save(tmp_path / "preview.tif")
    (clip, _), (preview, reason) = expand_folder(tmp_path)
    assert clip == tmp_path and preview.name == "preview.tif" and "not an image of the frame folder" in reason
    assert "still image" in reason
