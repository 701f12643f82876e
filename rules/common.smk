# The plan (computed at parse time), paths and helpers shared by the stage rules.
# Every stage rule serves every dataset of the run ({dataset}: the run's own and its zero-shot targets),
# each with its own config section.
import json
import re
import sys

from fineclipper.backends import backend_of
from fineclipper.stages.versions import STAGE_VERSIONS
from fineclipper.workflow import plan_workflow

PYTHON = sys.executable
PLAN = plan_workflow(config)
PRIMARY, ZERO_SHOT = PLAN.primary, PLAN.zero_shot
DATASETS = {PRIMARY.name: PRIMARY, **ZERO_SHOT}
RESULTS_ROOT, SHARDS_ROOT, LOGS_ROOT = config["results"], config["shards"], config["logs"]
# The run's own dataset: training, evaluation and the report live under it.
RESULTS, LOGS = f"{RESULTS_ROOT}/{PRIMARY.name}", f"{LOGS_ROOT}/{PRIMARY.name}"

for _plan in DATASETS.values():
    _plan.write_chunk_manifests()


wildcard_constraints:
    dataset="|".join(re.escape(name) for name in DATASETS),
    chunk=r"[A-Za-z0-9]+-\d{4}",


def stage_backend(stage, wildcards):
    """The registry entry (fineclipper/backends.py) of the backend a job's dataset uses for this stage."""
    return backend_of(stage, DATASETS[wildcards.dataset].config[stage])


def needs_gpu(stage):
    """gpu=1 for a job whose backend runs on a GPU (a SLURM profile turns that into a GPU request)."""
    return lambda wildcards: int(stage_backend(stage, wildcards).gpu)


def chunk_group(*gpu_stages):
    """The group of a chunk's CPU stages: on a cluster, Snakemake submits a chunk's connected jobs of one
    group as one job (groups never span chunks, which share no job), so a chunk costs one submission, not
    five; local runs ignore groups. None (a job of its own) when a stage of ``gpu_stages`` runs on a GPU
    backend for the job's dataset: that job goes to a GPU partition alone, and pack, downstream of it,
    leaves the group too (a group may not be left and re-entered)."""
    return lambda wildcards: None if any(stage_backend(s, wildcards).gpu for s in gpu_stages) else "preprocess"


def backend_files(stage):
    """Files the backend reads (a checkpoint), as inputs: replacing one reruns the stage."""

    def files(wildcards):
        cfg = DATASETS[wildcards.dataset].config[stage]
        return [cfg[key] for key in stage_backend(stage, wildcards).files if cfg.get(key)]

    return files


def backend_conda(stage):
    """The backend's own conda environment, used with --sdm conda (the stage then runs in that
    environment's Python); None: the workflow's."""

    def env(wildcards):
        env_file = stage_backend(stage, wildcards).conda
        return os.path.join(workflow.basedir, env_file) if env_file else None

    return env


def chunk_file(wildcards):
    return chunk_path(wildcards.dataset, wildcards.chunk)


def chunk_path(dataset, chunk):
    return f"{RESULTS_ROOT}/{dataset}/chunks/{chunk}.json"


def stage_params(stage):
    """The dataset's config section of a stage and the stage's version, as params: editing either reruns it."""
    return {
        "config": lambda wildcards: json.dumps(DATASETS[wildcards.dataset].config.get(stage, {}), sort_keys=True),
        "version": STAGE_VERSIONS[stage],
    }


def stage_output(stage):
    return {
        "table": f"{RESULTS_ROOT}/{{dataset}}/{stage}/{{chunk}}.parquet",
        "failures": f"{RESULTS_ROOT}/{{dataset}}/{stage}/{{chunk}}.failures.parquet",
    }


def stage_table(stage):
    return f"{RESULTS_ROOT}/{{dataset}}/{stage}/{{chunk}}.parquet"


def stage_log(stage):
    return f"{LOGS_ROOT}/{{dataset}}/{stage}/{{chunk}}.log"


def stage_benchmark(stage):
    return f"{RESULTS_ROOT}/{{dataset}}/benchmarks/{stage}/{{chunk}}.tsv"


def shard_paths(plan, chunks=None):
    """Shards of a dataset (of these chunks; default all)."""
    return [f"{SHARDS_ROOT}/{plan.name}/{c}.tar" for c in (plan.chunks if chunks is None else chunks)]


def failure_paths(plan, chunks=None):
    return [f"{SHARDS_ROOT}/{plan.name}/{c}.failures.parquet" for c in (plan.chunks if chunks is None else chunks)]


def summary_path(dataset):
    return f"{RESULTS_ROOT}/{dataset}/summary.json"


def source_inputs(wildcards):
    """The demo's clips are made by a rule of this workflow; other sources are read as data."""
    if DATASETS[wildcards.dataset].format != "demo":
        return []
    return f"{RESULTS_ROOT}/{wildcards.dataset}/videos"
