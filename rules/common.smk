# Chunk plan (computed at parse time), paths and helpers shared by the stage rules.
import json
import sys

from fineclipper.datasets import build_manifest, class_names, plan_chunks
from fineclipper.datasets.foldlists import SPECS
from fineclipper.io import write_json_if_changed
from fineclipper.stages.versions import STAGE_VERSIONS

PYTHON = sys.executable
DATASET = config["dataset"]["name"]
RESULTS = f"{config['results']}/{DATASET}"
SHARDS = f"{config['shards']}/{DATASET}"
LOGS = f"{config['logs']}/{DATASET}"
SUMMARY = f"{RESULTS}/summary.json"

MANIFEST = build_manifest(config)
CLASSES = class_names(config["dataset"], config["demo"])
CHUNKS = plan_chunks(MANIFEST, config["chunk_size"])

# One JSON file per chunk. It is rewritten only when its rows change, so an unchanged plan leaves
# every mtime alone and a changed chunk reruns just that chunk.
for _chunk, _rows in CHUNKS.items():
    write_json_if_changed(f"{RESULTS}/chunks/{_chunk}.json", {"chunk": _chunk, "rows": _rows})


wildcard_constraints:
    chunk=r"[A-Za-z0-9]+-\d{4}",
    run=r"[A-Za-z0-9]+",
    target=r"dfew|ferv39k|mafw",


# Backends that need a GPU; their rules then ask for gpu=1 (a SLURM profile turns that into a GPU request).
GPU_BACKENDS = {"sam", "vllm"}


def needs_gpu(backend):
    return int(backend in GPU_BACKENDS)


def chunk_file(wildcards):
    return f"{RESULTS}/chunks/{wildcards.chunk}.json"


def stage_params(stage):
    """A stage's config section and version, as params: editing either reruns the stage."""
    return {"config": json.dumps(config.get(stage, {}), sort_keys=True), "version": STAGE_VERSIONS[stage]}


def stage_output(stage):
    return {
        "table": f"{RESULTS}/{stage}/{{chunk}}.parquet",
        "failures": f"{RESULTS}/{stage}/{{chunk}}.failures.parquet",
    }


def stage_log(stage):
    return f"{LOGS}/{stage}/{{chunk}}.log"


def stage_benchmark(stage):
    return f"{RESULTS}/benchmarks/{stage}/{{chunk}}.tsv"


def shard_paths():
    return [f"{SHARDS}/{chunk}.tar" for chunk in CHUNKS]


def source_inputs(wildcards):
    """Sources that a rule of this workflow makes (the demo videos); other sources are read as data."""
    if config["dataset"]["format"] != "demo":
        return []
    return [row["source"] for row in CHUNKS[wildcards.chunk]]
