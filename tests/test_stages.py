"""The stages in-process on real media, for each frames setting: face-crop datasets are resized, never
re-detected, and lose a clip only when nothing of it decodes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import require_e2e, run_stages
from media import frame_folder

from fineclipper import REPO_ROOT
from fineclipper.config import load_config
from fineclipper.paths import STAGES
from fineclipper.shards import iter_raw
from fineclipper.stages import frames


@pytest.fixture(scope="module")
def chunk(tmp_path_factory, astronaut_face, carphone):
    """Frame folders: astronaut face crops (one image broken), carphone frames, and frames without a face."""
    from fineclipper.video import read_clip

    folder = tmp_path_factory.mktemp("sources")
    rng = np.random.default_rng(0)
    sources = {
        "astronaut": frame_folder(folder / "astronaut", [np.roll(astronaut_face, s, axis=1) for s in range(0, 16, 2)]),
        "carphone": frame_folder(folder / "carphone", read_clip(carphone, 12).frames),
        "faceless": frame_folder(folder / "faceless",
                                 [rng.integers(0, 255, (96, 96, 3), dtype=np.uint8) for _ in range(6)]),
    }
    (sources["astronaut"] / "00003.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    rows = [{"id": vid, "source": str(path), "label": 0, "label_name": "neutral", "group": "test", "dataset": "mini",
             "num_frames": -1} for vid, path in sources.items()]
    path = folder / "test-0000.json"
    path.write_text(json.dumps({"chunk": "test-0000", "rows": rows}))
    return path


def test_face_crops_are_resized_and_every_clip_is_kept(chunk, tmp_path):
    samples, failures = run_stages(chunk, tmp_path, frames={"crop": "none", "min_frames": 1},
                                   landmarks={"on_low_detection": "keep"})
    assert not failures and set(samples) == {"astronaut", "carphone", "faceless"}
    astronaut = samples["astronaut"]
    assert len(astronaut["frames"]) == 7 and astronaut["meta"]["unreadable_frames"] == 1
    assert (astronaut["meta"]["frames_declared"], astronaut["meta"]["frames_decoded"]) == (8, 7)
    assert astronaut["meta"]["partial"] and not samples["carphone"]["meta"]["partial"]
    assert astronaut["meta"]["frame_indices"] == [0, 1, 2, 4, 5, 6, 7]
    stored = next(iter_raw(tmp_path / "shard.tar"))  # 224 px JPEG face crops are stored as they are
    assert (stored["__key__"] == "astronaut"
            and stored["000.jpg"] == (Path(astronaut["meta"]["source"]) / "00000.jpg").read_bytes())
    assert astronaut["meta"]["face_found"] is None and astronaut["meta"]["face_detected"] == []
    assert astronaut["meta"]["detection_rate"] == 1.0 and astronaut["masks"][0].max() > 0
    carphone = samples["carphone"]
    assert carphone["frames"][0].shape == (224, 224, 3) and carphone["meta"]["boxes"][0] == [0, 0, 176, 144]
    faceless = samples["faceless"]
    assert np.isnan(faceless["landmarks"]).all() and max(m.max() for m in faceless["masks"]) == 0
    assert faceless["meta"]["detection_rate"] == 0.0 and "visible in 0 of 6 frames" in faceless["description"]


def test_detected_crops_fail_or_keep_a_faceless_clip(chunk, tmp_path):
    samples, failures = run_stages(chunk, tmp_path / "fail", frames={"crop": "detect"})
    assert set(samples) == {"astronaut", "carphone"} and "no face" in failures["faceless"]["reason"]
    assert samples["astronaut"]["meta"]["face_found"] is True
    samples, failures = run_stages(chunk, tmp_path / "keep", frames={"crop": "detect", "on_no_face": "keep"},
                                   landmarks={"on_low_detection": "keep"})
    assert not failures and samples["faceless"]["meta"]["face_found"] is False
    assert samples["faceless"]["frames"][0].shape == (224, 224, 3)


def test_too_few_landmarks_fail_unless_kept(chunk, tmp_path):
    samples, failures = run_stages(chunk, tmp_path, frames={"crop": "none"})
    assert failures["faceless"]["stage"] == "landmarks" and "found in 0 of 6 frames" in failures["faceless"]["reason"]
    assert set(samples) == {"astronaut", "carphone"}


def build_chunk_in_subprocesses(chunk: Path, out: Path) -> Path:
    """Every stage of the chunk as the rules run them (one process each); returns the shard."""
    import subprocess
    import sys

    require_e2e("runs the stages in subprocesses")
    cfg = load_config(overrides={"train": {"enabled": False}})
    t = {s: (str(out / f"{s}.parquet"), str(out / f"{s}.failures.parquet")) for s in STAGES}

    def run(module, *args, section=None):
        extra = ["--config", json.dumps(cfg[section])] if section else []
        subprocess.run([sys.executable, "-m", f"fineclipper.stages.{module}", *args, *extra], check=True,
                       capture_output=True)

    run("frames", "--chunk", str(chunk), "--output", t["frames"][0], "--failures", t["frames"][1], section="frames")
    run("landmarks", "--frames", t["frames"][0], "--output", t["landmarks"][0], "--failures", t["landmarks"][1],
        section="landmarks")
    run("masks", "--frames", t["frames"][0], "--landmarks", t["landmarks"][0], "--output", t["masks"][0],
        "--failures", t["masks"][1], section="masks")
    run("describe", "--chunk", str(chunk), "--frames", t["frames"][0], "--landmarks", t["landmarks"][0],
        "--output", t["describe"][0], "--failures", t["describe"][1], section="describe")
    run("pack", "--chunk", str(chunk), *[a for s in STAGES for a in (f"--{s}", t[s][0], f"--{s}-failures", t[s][1])],
        "--output", str(out / "shard.tar"), "--failures", str(out / "failures.parquet"))
    return out / "shard.tar"


@pytest.mark.e2e
def test_the_same_chunk_gives_the_same_shard(tmp_path, carphone, demo_cfg):
    """Demo clips written twice, each chunk built twice in separate processes: byte for byte the same."""
    from fineclipper.datasets.demo import write_demo

    shards = []
    for run in ("a", "b"):
        rows = write_demo({**demo_cfg, "clips_per_class": 1, "test_per_class": 0}, tmp_path / run / "videos", workers=1)
        rows.append({**rows[0], "id": "carphone", "source": str(carphone)})
        chunk = tmp_path / run / "train-0000.json"
        chunk.write_text(json.dumps({"chunk": "train-0000", "rows": rows}))
        shards.append(build_chunk_in_subprocesses(chunk, tmp_path / run))
    videos = [sorted((tmp_path / run / "videos").glob("*.mp4")) for run in ("a", "b")]
    assert [p.read_bytes() for p in videos[0]] == [p.read_bytes() for p in videos[1]]
    first, second = (list(iter_raw(s)) for s in shards)
    assert len(first) == 5 and [r["__key__"] for r in first] == [r["__key__"] for r in second]
    for a, b in zip(first, second):
        meta_a, meta_b = json.loads(a.pop("json")), json.loads(b.pop("json"))
        meta_a.pop("source"), meta_b.pop("source")  # the two runs' own folders
        assert meta_a == meta_b
        assert ({k: v for k, v in a.items() if not k.startswith("__")}
                == {k: v for k, v in b.items() if not k.startswith("__")})
    # and the shards themselves, but for the sources' folders in the metadata
    data = [s.read_bytes().replace(str(tmp_path / run).encode(), b"") for s, run in zip(shards, ("a", "b"))]
    assert len(data[0]) > 0 and data[0] == data[1]


def test_a_truncated_clip_is_recorded_as_partial(tmp_path, demo_cfg):
    """A demo clip cut at 60% of its bytes is kept from the frames that decode, and its frames row says how
    many of the frames its header declares those are."""
    from fineclipper.datasets.demo import render_clip, write_video
    from fineclipper.video import describe_frames

    video = tmp_path / "whole.mp4"
    write_video(video, render_clip("happiness", 0, {**demo_cfg, "frames": 24, "size": 96}), 8, faststart=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[: int(video.stat().st_size * 0.6)])
    rows = [{"id": vid, "source": str(path), "label": 0, "label_name": "neutral", "group": "test", "dataset": "mini",
             "num_frames": -1} for vid, path in (("whole", video), ("cut", cut))]
    chunk = tmp_path / "test-0000.json"
    chunk.write_text(json.dumps({"chunk": "test-0000", "rows": rows}))
    cfg = load_config(overrides={"frames": {"crop": "none", "min_frames": 1, "max_frames": 16},
                                 "train": {"enabled": False}})["frames"]
    frames.run(str(chunk), str(tmp_path / "frames.parquet"), str(tmp_path / "failures.parquet"), cfg, progress=False)
    table = {r["id"]: r for r in pq.read_table(tmp_path / "frames.parquet").to_pylist()}
    whole, partial = table["whole"], table["cut"]
    assert (whole["frames_declared"], whole["frames_decoded"], whole["partial"]) == (24, 24, False)
    assert partial["frames_declared"] == 24 and 0 < partial["frames_decoded"] < 24 and partial["partial"]
    assert partial["unreadable_frames"] == 24 - partial["frames_decoded"] == 24 - len(partial["indices"])
    used = len(partial["indices"])
    assert describe_frames(used, 24, used) == f"{used} of 24 (partial: {24 - used} could not be decoded)"
    assert describe_frames(16, 24, 24) == "16 of 24"


def test_failure_reasons_count_by_kind():
    from fineclipper.stages.summary import reason_kind

    assert reason_kind("cannot decode /data/a b.mp4: Invalid data found when processing input",
                       "/data/a b.mp4") == "cannot decode <source>"
    assert reason_kind("no decodable frame image in /data/f (2 of its 8 images tried)", "/data/f/") \
        == "no decodable frame image in <source>"
    assert reason_kind("face landmarks found in 0 of 8 frames (min_detection_rate 0.5)", "/x") \
        == "face landmarks found in N of N frames"
    assert reason_kind("too few frames: 2 < min_frames 4", "/x") == "too few frames"


def test_too_many_failures_name_the_folder_of_the_failures_tables(tmp_path, capsys):
    """The warning points at the failures tables the summary read (beside the shards), not at the summary's
    folder, which holds none."""
    from fineclipper.chunks import FAILURE_SCHEMA
    from fineclipper.io import write_table
    from fineclipper.paths import chunk_manifest, failures_beside, shard, summary
    from fineclipper.shards import write_shard
    from fineclipper.stages.summary import run

    results, shards = str(tmp_path / "results"), str(tmp_path / "shards")
    manifest, shard_path = Path(chunk_manifest(results, "mini", "test-0000")), shard(shards, "mini", "test-0000")
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"chunk": "test-0000", "rows": [
        {"id": "a", "source": "/data/a.mp4", "label": 0, "label_name": "neutral", "group": "test", "dataset": "mini",
         "num_frames": -1}]}))
    write_shard(shard_path, [])
    write_table(failures_beside(shard_path), pa.Table.from_pylist(
        [{"id": "a", "stage": "frames", "reason": "cannot decode /data/a.mp4"}], schema=FAILURE_SCHEMA))
    run([str(manifest)], [shard_path], [failures_beside(shard_path)], summary(results, "mini"),
        {"max_failed_fraction": 0.5})
    warning = capsys.readouterr().err.splitlines()[-1]
    assert warning.endswith(f"see {shards}/mini/*.failures.parquet")
    assert list((tmp_path / "shards/mini").glob("*.failures.parquet")) == [Path(failures_beside(shard_path))]


def documented_shard_schema() -> tuple[dict[str, str], list[str]]:
    """The shard schema of docs/stages-and-backends.md: field name -> what it holds, and the keys of ``json``."""
    page = (REPO_ROOT / "docs/stages-and-backends.md").read_text()
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", page.split("## Shard schema")[1].split("\n## ")[0], re.M)
    fields = {name: content for names, content in rows for name in re.findall(r"`([^`]+)`", names)}
    return fields, fields["json"].split(", ")


def test_a_shard_holds_the_documented_fields(chunk, tmp_path):
    """Every field of a packed sample, and every key of its metadata, is one the docs list, and every field they
    list is there but the ones they call optional (blendshapes, a caption, the label of an unlabelled clip)."""
    run_stages(chunk, tmp_path, frames={"crop": "none", "min_frames": 1}, landmarks={"on_low_detection": "keep"})
    fields, metadata_keys = documented_shard_schema()

    def numbered(name):
        return re.sub(r"^\d{3}\.", "NNN.", name)

    documented = {numbered(name) for name in fields}
    optional = {numbered(name) for name, content in fields.items() if "only" in content or "absent" in content}
    assert optional == {"blendshapes.npy", "caption.txt", "cls"}
    samples = list(iter_raw(tmp_path / "shard.tar"))
    assert len(samples) == 3
    for raw in samples:
        assert documented - optional <= {numbered(name) for name in raw if not name.startswith("__")} <= documented
        assert "cls" in raw  # the chunk's clips are labelled
        assert sorted(json.loads(raw["json"])) == sorted(metadata_keys)


def test_reads_run_one_video_ahead_and_a_failed_read_fails_only_its_video():
    import threading

    from fineclipper.stages.common import run_per_video
    from fineclipper.video import VideoError

    started = {i: threading.Event() for i in range(4)}

    def read(item):
        started[item["id"]].set()
        if item["id"] == 2:
            raise VideoError("cannot decode")
        return item["id"] * 10

    def process(item, value):
        # the next video's read has started while this one is processed (the last has no next)
        following = item["id"] + 1
        overlapped = following not in started or started[following].wait(timeout=10)
        return {"id": item["id"], "value": value, "overlapped": overlapped}

    results, failures = run_per_video("test", [{"id": i} for i in range(4)], process, progress=False, read=read)
    assert results == [{"id": i, "value": 10 * i, "overlapped": True} for i in (0, 1, 3)]
    assert failures == [{"id": 2, "stage": "test", "reason": "cannot decode"}]


def test_our_tar_reader_reads_what_webdataset_reads_and_names_a_broken_shard(tmp_path):
    """iter_raw (a fast tar reader) against WebDataset's own on a shard with long Unicode keys (pax headers),
    a GNU long name (tarfile's GNU format), pax names holding a line separator or a newline, a header summed as
    old tars sum it (signed bytes), and cut-off or corrupted shards."""
    import tarfile

    import webdataset as wds

    from fineclipper.shards import iter_raw, make_sample, tar_members, write_shard

    rng = np.random.default_rng(0)
    keys = ["short", "ünïcödé_" + "とても長い名前" * 12, "x" * 150]
    samples = [make_sample(key, [bytes(rng.integers(0, 255, 700, dtype=np.uint8))] * 3, [b"png"] * 3,
                           rng.uniform(0, 1, (3, 478, 3)).astype(np.float32), "still", i, {"group": "train"})
               for i, key in enumerate(keys)]
    shard = tmp_path / "train-0000.tar"
    write_shard(shard, samples)

    def fields(raw):
        return {k: v for k, v in raw.items() if not k.startswith("__")}

    ours = list(iter_raw(shard))
    theirs = list(wds.WebDataset(str(shard), shardshuffle=False, empty_check=False))
    assert [r["__key__"] for r in ours] == [r["__key__"] for r in theirs] == keys
    assert [fields(r) for r in ours] == [fields(r) for r in theirs]
    assert {r["__url__"] for r in ours} == {str(shard)}

    gnu = tmp_path / "gnu.tar"  # GNU long names (type L) instead of pax
    with tarfile.open(shard) as source, tarfile.open(gnu, "w", format=tarfile.GNU_FORMAT) as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member))
    assert [fields(r) for r in iter_raw(gnu)] == [fields(r) for r in theirs]

    data = shard.read_bytes()
    (tmp_path / "cut.tar").write_bytes(data[: len(data) // 2])
    with pytest.raises(tarfile.ReadError, match="unexpected end of data"):
        list(iter_raw(tmp_path / "cut.tar"))
    (tmp_path / "bad.tar").write_bytes(data[:10] + b"?" + data[11:])  # a byte of the first name changed
    with pytest.raises(tarfile.ReadError, match="bad checksum"):
        list(iter_raw(tmp_path / "bad.tar"))
    odd = tmp_path / "odd.tar"  # pax names holding a line separator and a newline
    names = ["a\u2028b.txt", "c\nd.txt"]
    with tarfile.open(odd, "w", format=tarfile.PAX_FORMAT) as target:
        for name in names:
            target.addfile(tarfile.TarInfo(name))
    assert [name for name, _ in tar_members(odd)] == names
    signed = tmp_path / "signed.tar"  # a header with bytes over 127 (a UTF-8 name), summed as old tars sum
    with tarfile.open(signed, "w", format=tarfile.GNU_FORMAT) as target:
        target.addfile(tarfile.TarInfo("é.txt"))
    data = bytearray(signed.read_bytes())
    unsigned_sum, signed_sum = tarfile.calc_chksums(bytes(data[:512]))
    assert signed_sum != unsigned_sum
    data[148:156] = b"%06o\0 " % signed_sum
    signed.write_bytes(bytes(data))
    with tarfile.open(signed) as tar:
        assert tar.getnames() == ["é.txt"]
    assert [name for name, _ in tar_members(signed)] == ["é.txt"]
    twice = tmp_path / "twice.tar"  # one sample's field written twice: WebDataset refuses it too
    with tarfile.open(shard) as source, tarfile.open(twice, "w") as target:
        first = source.getmembers()[0]
        for member in [first, *source.getmembers()]:
            target.addfile(member, source.extractfile(member))
    with pytest.raises(ValueError, match=f"sample short holds {first.name.split('.', 1)[1]!r} twice"):
        list(iter_raw(twice))
