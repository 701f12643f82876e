"""Stage ``describe``: a text description of the facial movements of each clip, from the configured
backend in one batched call per chunk, passed through the label-leakage filter. One run describes one
or more chunks with one backend (one model load) and writes a table per chunk."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from ..backends import build_backend
from ..chunks import read_chunk
from ..describe.leakage import remove_leakage
from ..io import npy_load
from .common import failure_row, read_ahead, read_rows, run_per_video, stage_main, write_outputs

log = logging.getLogger("fineclipper")

SCHEMA = pa.schema([
    ("id", pa.string()),
    ("text", pa.string()),  # after the leakage filter: what the shard stores
    ("raw", pa.string()),  # the backend's own words
    ("removed", pa.list_(pa.string())),  # words the filter took out
    ("backend", pa.string()),
    ("provenance", pa.string()),  # JSON: what made the text (backend, model, prompt hash, sampling)
])


def describe_all(describer, clips: list[dict]) -> tuple[list[dict], list[dict]]:
    """``(clip, raw text)`` pairs and failure rows: one batched call; a failing batch is split in halves,
    each described the same way, so a bad clip costs about 2 log2(n) calls and is a failure row of its
    own while the others still get their text."""
    if not clips:
        return [], []
    try:
        return list(zip(clips, describer.describe(clips))), []
    except Exception as e:  # noqa: BLE001 - find the clip(s) that broke the batch
        if len(clips) == 1:
            return [], [failure_row("describe", clips[0]["id"], e)]
        log.warning("describe: a batch of %d clips failed (%s: %s); describing its halves", len(clips),
                    type(e).__name__, e)
    half = len(clips) // 2
    (first, first_failed), (second, second_failed) = (describe_all(describer, part)
                                                      for part in (clips[:half], clips[half:]))
    return first + second, first_failed + second_failed


def describer_input(frames_row: dict, landmarks_row: dict) -> dict:
    """What a describer reads of one clip: its stored frames, landmarks, detection flags and timing."""
    return {"id": frames_row["id"], "landmarks": npy_load(landmarks_row["landmarks"]).astype(np.float32),
            "detected": landmarks_row["detected"], "fps": frames_row["fps"], "indices": frames_row["indices"],
            "jpegs": frames_row["jpegs"]}


def description_rows(describer, pairs: list[tuple[dict, str]], config: dict, classes: list[str]) -> list[dict]:
    """``describe`` table rows from ``(clip, raw text)`` pairs: the leakage filter takes out emotion words,
    expressive actions (unless ``keep_expressive_actions``), the dataset's class names (with
    ``remove_class_names``) and ``extra_leakage_words``."""
    words = tuple(classes if config["remove_class_names"] else ()) + tuple(config["extra_leakage_words"])
    # absent from the settings a checkpoint recorded before describe version 4, whose shards kept them
    keep_actions = config.get("keep_expressive_actions", True)
    provenance = json.dumps(describer.provenance, sort_keys=True)
    rows = []
    for clip, raw in pairs:
        text, removed = remove_leakage(raw, words, keep_actions)
        rows.append({"id": clip["id"], "text": text, "raw": raw, "removed": removed, "backend": config["backend"],
                     "provenance": provenance})
    return rows


@dataclass(frozen=True)
class ChunkPaths:
    """One chunk of a describe job: its manifest, its frames and landmarks tables, and where its table and
    failures go."""

    chunk: str
    frames: str
    landmarks: str
    output: str
    failures: str


def load_chunk(describer, paths: ChunkPaths, progress: bool) -> tuple[list[dict], list[dict]]:
    """A chunk's clips as the describer takes them (its :meth:`prepare` done: decoded, shrunk frames for a
    model) and failure rows of the clips that could not be read."""
    frames_of = {r["id"]: r for r in read_rows(paths.frames)}
    return run_per_video("describe", [r for r in read_rows(paths.landmarks) if r["id"] in frames_of],
                         lambda row: describer.prepare(describer_input(frames_of[row["id"]], row)), progress=progress)


class DescriberDown(RuntimeError):
    """Every clip of a chunk that was read failed in describing: the describer (e.g. its engine) is broken,
    not the clips, so the job fails and Snakemake reruns it rather than record the chunk as described."""

    def __init__(self, chunk: str, clips: int, reason: str):
        super().__init__(f"describe: all {clips} clips of chunk {chunk} failed in describing (the first: "
                         f"{reason}); no table is written, so the job fails and is rerun")


def run_chunks(chunks: list[ChunkPaths], config: dict, progress: bool = True) -> None:
    """Describe several chunks with one describer (one model load), one batched call per chunk, writing each
    chunk's table as soon as it is described; the next chunk is read and prepared in a thread meanwhile.
    Raises :class:`DescriberDown` when no clip of a chunk that has readable clips gets a description."""
    describer = build_backend("describe", config)  # a missing model stops here, before any video
    loaded = read_ahead(chunks, lambda paths: load_chunk(describer, paths, progress))
    for index, (paths, loading) in enumerate(zip(chunks, loaded)):
        clips, failed = loading.result()
        pairs, batch_failed = describe_all(describer, clips)
        if clips and not pairs:
            raise DescriberDown(paths.chunk, len(clips), batch_failed[0]["reason"])
        rows = description_rows(describer, pairs, config, read_chunk(paths.chunk).get("classes", []))
        write_outputs(paths.output, paths.failures, rows, SCHEMA, failed + batch_failed)
        log.info("describe: chunk %d of %d written (%s)", index + 1, len(chunks), paths.output)


def run(chunk: str, frames: str, landmarks: str, output: str, failures: str, config: dict,
        progress: bool = True) -> None:
    """Describe one chunk (:func:`run_chunks` of one)."""
    run_chunks([ChunkPaths(chunk, frames, landmarks, output, failures)], config, progress)


def run_job(chunk: list[str], frames: list[str], landmarks: list[str], output: list[str], failures: list[str],
            config: dict) -> None:
    """A describe job as its rule runs it: the chunks whose paths the lists give, one of each per chunk in
    the same order (:func:`run_chunks`)."""
    columns = {"chunk": chunk, "frames": frames, "landmarks": landmarks, "output": output, "failures": failures}
    if len({len(paths) for paths in columns.values()}) != 1:
        raise ValueError("describe needs one path per chunk in each of --chunk, --frames, --landmarks, --output "
                         f"and --failures, got {', '.join(f'{len(v)} {k}' for k, v in columns.items())}")
    run_chunks([ChunkPaths(*paths) for paths in zip(*columns.values())], config)


def main() -> None:
    stage_main("describe", run_job, inputs=["chunk", "frames", "landmarks"], per_chunk=True)


if __name__ == "__main__":
    main()
