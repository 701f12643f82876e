"""Prediction with a trained checkpoint: ``fineclipper predict`` on new videos, and the workflow's
``predict`` target over a dataset's shards.

``fineclipper predict``: the four stages (frames, landmarks, masks, describe) run in-process with the
settings the checkpoint recorded from its training shards, then the model; a clip that cannot be used gets a
row with its reason. An argument is a video file, a folder of frame images (one clip), or a folder of videos
(each a clip; see :func:`expand_folder`); every argument and every file skipped gets a row.

The ``predict`` target runs the checkpoint over one chunk's shard (every clip of the chunk gets a row), then
merges the chunks' files:

    python -m fineclipper.predict chunk --checkpoint best.pt --shard S.tar --chunk C.json --failures F --out P.csv
    python -m fineclipper.predict merge --inputs P1.csv P2.csv ... --out predictions.csv

The rows are :mod:`fineclipper.predictions`'.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from .chunks import failure_reasons, read_chunk
from .datasets.manifest import sanitize_id
from .errors import run_command
from .paths import STAGES
from .predictions import failure_row, prediction_row, prediction_rows, read_predictions, write_predictions
from .video import IMAGE_SUFFIXES, describe_frames

log = logging.getLogger("fineclipper")
#: FFmpeg's demuxers of single images and text, which it also opens as a one-frame video stream (besides
#: every ``*_pipe`` image demuxer): such a file is not a clip.
STILL_FORMATS = {"image2", "tty"}


def unreadable_video(path: Path) -> str | None:
    """None when FFmpeg finds a video stream in the file (any container it reads: .mp4, .ts, .3gp, ...,
    whatever the name ends in); else why it is not a video."""
    import av

    try:
        with av.open(str(path)) as container:
            if any(name.endswith("_pipe") or name in STILL_FORMATS for name in container.format.name.split(",")):
                return f"a still image or text ({container.format.name}), not a video"
            return None if container.streams.video else "no video stream in it"
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        return f"not a video FFmpeg can read ({type(e).__name__})"


def expand_folder(folder: Path) -> list[tuple[Path, str | None]]:
    """A folder argument as (path, None) clips and (path, reason) skipped files. The rule: a folder that
    holds videos is a folder of clips, one per video, every other file in it skipped; a folder that holds
    images and no video is one frame-folder clip (its other files skipped); a folder with neither is one
    failed clip. Subfolders and hidden files are skipped, never read."""
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    images = [p for p in files if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    why_not_video = {p: unreadable_video(p) for p in files if p.is_file() and p not in images}
    videos = [p for p, why in why_not_video.items() if why is None]

    def skipped(path: Path, beside: str) -> tuple[Path, str]:
        if path.is_dir():
            return path, f"a folder inside {folder.name}: not read"
        if path in images:
            return path, f"an image beside the videos of {folder.name} (a cover or thumbnail?): not a clip"
        return path, f"{why_not_video[path]}; {beside}"

    if videos:
        return [(p, None) if p in videos else skipped(p, "not a clip") for p in files]
    if images:
        return [(folder, None)] + [skipped(p, f"not an image of the frame folder {folder.name}")
                                   for p in files if p not in images]
    return [(folder, None)]  # nothing usable: the clip fails with the frames stage's reason


def unique_id(name: str, seen: dict[str, int]) -> str:
    """A clip id from any name: Unicode letters and digits kept (:func:`sanitize_id`), a name with none
    becomes ``clip``, repeats are numbered (``name_2``, ...)."""
    try:
        key = sanitize_id(name)
    except ValueError:
        key = "clip"
    seen[key] = seen.get(key, 0) + 1
    return key if seen[key] == 1 else f"{key}_{seen[key]}"


def clip_sources(paths: list[str]) -> list[dict]:
    """One manifest-like row per clip, and one per skipped file (with ``skipped``: why), in argument order:
    a file argument is a clip (one that is no video fails later with its reason, as does a path that does
    not exist); a folder expands by :func:`expand_folder`. Ids are unique."""
    entries: list[tuple[Path, str | None]] = []
    for path in map(Path, paths):
        entries += expand_folder(path) if path.is_dir() else [(path, None)]
    rows, seen = [], {}
    for source, skipped in entries:
        name = source.name if source.is_dir() else source.stem
        row = {"id": unique_id(name, seen), "source": str(source), "label": None, "label_name": None,
               "group": "predict", "dataset": "predict", "num_frames": -1}
        rows.append({**row, "skipped": skipped} if skipped else row)
    return rows


class Preprocessor:
    """The stages as a checkpoint recorded them, for one clip at a time (describe: for a batch)."""

    def __init__(self, state: dict, checkpoint: str):
        from .backends import build_backend
        from .stages.frames import FrameExtractor
        from .stages.landmarks import LandmarkExtractor
        from .stages.versions import STAGE_VERSIONS

        recorded = state.get("preprocessing") or {}
        missing = [s for s in STAGES if s not in recorded]
        if missing:
            raise ValueError(f"{checkpoint} records no preprocessing settings ({', '.join(missing)}): it was trained "
                             "before checkpoints recorded them; retrain it with this version")
        changed = {s: (v, STAGE_VERSIONS.get(s)) for s, v in recorded.get("stage_versions", {}).items()
                   if STAGE_VERSIONS.get(s) != v}
        if changed:
            log.warning("the stages changed since %s was trained (stage: trained version, now): %s; its inputs may "
                        "differ from its training shards", checkpoint, changed)
        self.cfg = recorded
        self.classes = state["classes"]
        self.frames = FrameExtractor(recorded["frames"])
        self.landmarks = LandmarkExtractor(recorded["landmarks"])
        self.parser = build_backend("masks", recorded["masks"])  # a backend that is not installed stops here
        self.describer = build_backend("describe", recorded["describe"])

    def stage_rows(self, row: dict) -> tuple[dict, dict, dict]:
        """The frames, landmarks and masks rows of one clip (a :class:`VideoError` names why it cannot be used)."""
        from .io import npy_load
        from .stages.common import decode_jpegs
        from .stages.masks import mask_clip

        frames = self.frames(row)
        images = decode_jpegs(frames["jpegs"])  # once, for the landmarks and for a parser that reads pixels
        landmarks = self.landmarks(frames, images)
        return frames, landmarks, mask_clip(self.parser, frames, npy_load(landmarks["landmarks"]).astype(np.float32),
                                            images)

    def samples(self, rows: list[dict]) -> tuple[list[dict], list[dict]]:
        """Shard samples of the clips that could be used, and failure rows (id, stage, reason) of the others."""
        from .stages.common import run_per_video
        from .stages.describe import describe_all, describer_input, description_rows
        from .stages.pack import clip_sample

        done, failed = run_per_video("preprocess", rows, lambda row: (row, *self.stage_rows(row)), progress=False)
        inputs = {d[0]["id"]: d for d in done}
        pairs, describe_failed = describe_all(self.describer, [describer_input(fr, lm) for _, fr, lm, _ in done])
        described = {row["id"]: row
                     for row in description_rows(self.describer, pairs, self.cfg["describe"], self.classes)}
        samples = [clip_sample(row, "predict", fr, lm, mk, described[key])
                   for key, (row, fr, lm, mk) in inputs.items() if key in described]
        return samples, failed + describe_failed


def parse_classes(text: str) -> list[str]:
    """``--classes "boredom,confusion,pain"``: class names, comma-separated; at least two, none empty or
    repeated."""
    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise ValueError(f"--classes {text!r}: an empty class name (write names separated by commas)")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"--classes {text!r}: {', '.join(repeated)} listed twice")
    if len(names) < 2:
        raise ValueError(f"--classes {text!r}: at least two classes to choose between")
    return names


def predict_clips(checkpoint: str, paths: list[str], top_k: int = 3, sheet: str | None = None, batch_size: int = 8,
                  progress: bool = True, classes: list[str] | None = None) -> tuple[list[dict], dict]:
    """Prediction rows for the clips at ``paths`` (see :mod:`fineclipper.predictions`) and timings.
    ``classes``: score these class names (through the checkpoint's label-text templates) instead of the
    ones it was trained with; each row's ``vocabulary`` says which (``trained`` or ``open``)."""
    from tqdm import tqdm

    from .device import best_device
    from .inspect import contact_sheet
    from .shards import decode_sample
    from .train.checkpoint import load_trained
    from .train.data import collate
    from .train.engine import predict, transform_for

    device = best_device()
    model, state = load_trained(checkpoint, device)
    vocabulary = "trained" if classes is None or list(classes) == list(state["classes"]) else "open"
    if vocabulary == "open":
        model.set_classes(classes)
        how = ("it was pre-trained on captions, without labels" if state["train_config"].get("objective") == "captions"
               else "it was trained with the labels " + ", ".join(state["classes"]))
        print(f"note: scoring against classes {checkpoint} was not trained on ({', '.join(classes)}); {how}",
              file=sys.stderr)
    preprocessor = Preprocessor(state, checkpoint)
    transform = transform_for(model, False, state["train_config"].get("image_size"))
    entries = clip_sources(paths)
    rows = [e for e in entries if "skipped" not in e]
    results, timings = {}, {"preprocessing_s": 0.0, "model_s": 0.0, "clips": len(rows)}
    bar = tqdm(total=len(rows), desc="predict", unit="clip", disable=not progress, file=sys.stderr)
    for start in range(0, len(rows), batch_size):
        batch = rows[start:start + batch_size]
        began = time.perf_counter()
        samples, failed = preprocessor.samples(batch)
        middle = time.perf_counter()
        if samples:
            inputs = [collate([transform(raw, np.random.default_rng(0))]) for raw in samples]
            _, _, keys, _, probs = predict(model, inputs, device)
            for raw, key, p in zip(samples, keys, probs):
                meta = json.loads(raw["json"])
                results[key] = prediction_row(model.class_names, key, p, top_k, description=raw["desc.txt"].decode(),
                                              vocabulary=vocabulary, frames=describe_frames(
                                                  len(meta["frame_indices"]), meta["frames_declared"],
                                                  meta["frames_decoded"]))
                if sheet:
                    contact_sheet(decode_sample(raw), Path(sheet) / f"{key}.png",
                                  probabilities=dict(zip(model.class_names, p)), render=model.cfg.render)
        for f in failed:
            results[f["id"]] = failure_row(f["id"], f"{f['stage']}: {f['reason']}", vocabulary=vocabulary)
        timings["preprocessing_s"] += middle - began
        timings["model_s"] += time.perf_counter() - middle
        bar.update(len(batch))
    bar.close()
    for e in entries:
        if "skipped" in e:
            results[e["id"]] = failure_row(e["id"], e["skipped"], status="skipped", vocabulary=vocabulary)
    return [{**results[e["id"]], "source": e["source"]} for e in entries], timings


def print_predictions(rows: list[dict]) -> None:
    for r in rows:
        if r["status"] == "ok":
            print(f"{r['id']}: {r['top']} | {r['description']}")
        else:
            print(f"{r['id']}: {'skipped' if r['status'] == 'skipped' else 'no prediction'} ({r['reason']})")


def check_options(args) -> None:
    """Refuse, before any clip is processed, option values that would fail only at the end: counts below 1,
    an ``--out`` that cannot be written (a folder, or in a folder that does not exist or is read-only)."""
    for option, value in (("--top-k", args.top_k), ("--batch-size", args.batch_size)):
        if value < 1:
            raise ValueError(f"{option} {value}: must be at least 1")
    if args.out:
        out = Path(args.out)
        if out.is_dir():
            raise ValueError(f"--out {out}: is a folder; give a file name (.csv, or .json)")
        if not out.parent.is_dir():
            raise ValueError(f"--out {out}: the folder {out.parent} does not exist")
        if not os.access(out.parent, os.W_OK):
            raise ValueError(f"--out {out}: the folder {out.parent} is not writable")


def run_predict(args) -> None:
    """The ``fineclipper predict`` command."""
    check_options(args)
    if not Path(args.checkpoint).is_file():
        raise FileNotFoundError(f"--checkpoint {args.checkpoint}: no such file")
    classes = parse_classes(args.classes) if args.classes is not None else None
    rows, timings = predict_clips(args.checkpoint, args.videos, args.top_k, args.sheet, args.batch_size,
                                  classes=classes)
    print_predictions(rows)
    ok, skipped = (sum(r["status"] == status for r in rows) for status in ("ok", "skipped"))
    print(f"{ok} of {timings['clips']} clips predicted" + (f", {skipped} files skipped" if skipped else "")
          + f"; preprocessing {timings['preprocessing_s']:.1f} s, model {timings['model_s']:.1f} s", file=sys.stderr)
    if args.out:
        write_predictions(args.out, rows)
        print(f"wrote {args.out}", file=sys.stderr)


def predict_chunk(checkpoint: str, shard: str, chunk: str, failures: list[str], out: str, batch_size: int = 8) -> None:
    """Predictions for every clip of one chunk: from its shard, or its failure reason."""
    from .device import best_device
    from .shards import stage_versions
    from .train.checkpoint import load_trained
    from .train.data import make_loader
    from .train.engine import predict, transform_for

    device = best_device()
    model, state = load_trained(checkpoint, device)
    built = stage_versions([shard])
    trained = state.get("preprocessing", {}).get("stage_versions")
    if built and trained and built != trained:
        print(f"warning: {shard} was built by stage versions {built}, the checkpoint's training shards by "
              f"{trained}: its inputs may differ from what the model learned on", file=sys.stderr)
    loader = make_loader([shard], transform_for(model, False, state["train_config"].get("image_size")), batch_size, 0,
                         train=False)
    _, _, keys, _, probs = predict(model, loader, device)
    rows = prediction_rows(model.class_names, keys, probs, read_chunk(chunk)["rows"], failure_reasons(failures))
    write_predictions(out, rows)
    print(f"{sum(r['status'] == 'ok' for r in rows)} of {len(rows)} clips predicted -> {out}")


def merge(inputs: list[str], out: str) -> None:
    """One file of the chunks' predictions, in chunk order."""
    rows = [row for path in inputs for row in read_predictions(path)]
    write_predictions(out, rows)
    print(f"{len(rows)} clips ({sum(r['status'] == 'ok' for r in rows)} predicted) -> {out}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    command = sub.add_parser("chunk", help="a checkpoint's predictions for every clip of one chunk")
    command.add_argument("--checkpoint", required=True, help="best.pt of a training run")
    command.add_argument("--shard", required=True, help="the chunk's shard")
    command.add_argument("--chunk", required=True, help="the chunk's manifest (results/<dataset>/chunks/<chunk>.json)")
    command.add_argument("--failures", nargs="*", default=[], help="the chunk's failures table")
    command.add_argument("--out", required=True, help="predictions file (.csv or .json)")
    command = sub.add_parser("merge", help="one predictions file from the chunks' files")
    command.add_argument("--inputs", nargs="+", required=True, help="the chunks' predictions files, in order")
    command.add_argument("--out", required=True, help="the merged file (.csv or .json)")
    args = parser.parse_args(argv)
    if args.command == "chunk":
        run_command("predict", predict_chunk, args.checkpoint, args.shard, args.chunk, args.failures, args.out)
    else:
        run_command("predict", merge, args.inputs, args.out)


if __name__ == "__main__":
    main()
