# The plan (computed at parse time), paths and helpers shared by the stage rules.
# Every stage serves every dataset of the run ({dataset}, the run's own and the other datasets its
# experiments are scored on), each with its own config section.
import json
import re
import shlex
import sys

from fineclipper import paths, resolve_path
from fineclipper.backends import REGISTRIES, backend_of
from fineclipper.config import preprocessing_settings
from fineclipper.stages.versions import STAGE_VERSIONS
from fineclipper.workflow import plan_workflow

PYTHON = sys.executable
PLAN = plan_workflow(config)
PRIMARY, OTHERS = PLAN.primary, PLAN.others
DATASETS = {PRIMARY.name: PRIMARY, **OTHERS}
RESULTS_ROOT, SHARDS_ROOT, LOGS_ROOT = config["results"], config["shards"], config["logs"]
# The run's own dataset: training, evaluation and the report live under it.
RESULTS, LOGS = f"{RESULTS_ROOT}/{PRIMARY.name}", f"{LOGS_ROOT}/{PRIMARY.name}"

for _plan in DATASETS.values():
    _plan.write_chunk_manifests()


def stage_backend(stage, wildcards):
    """The registry entry (fineclipper/backends.py) of the backend a job's dataset uses for this stage."""
    return backend_of(stage, DATASETS[wildcards.dataset].config[stage])


def needs_gpu(stage):
    """gpu=1 for a job whose backend runs on a GPU (a SLURM profile turns that into a GPU request)."""
    return lambda wildcards: int(stage_backend(stage, wildcards).gpu)


#: Memory model of a stage job (MB): the interpreter with its libraries, what one clip needs while it is
#: processed (the frames stage decodes up to max_frames source frames: 6.3 MB each at 1920x1080), and the
#: chunk's stored frames held until written (JPEG, label map and landmarks: about 30 kB a frame).
BASE_MB, SOURCE_FRAME_MB, STORED_FRAME_MB = 1000, 6.3, 0.03


def stage_mem_mb(stage):
    """mem_mb of a stage job, from its dataset's chunk_size and frames.max_frames, plus its backend's own."""

    def mem_mb(wildcards):
        cfg = DATASETS[wildcards.dataset].config
        frames = cfg["frames"]["max_frames"]
        clip = frames * SOURCE_FRAME_MB if stage == "frames" else 0
        backend = stage_backend(stage, wildcards).mem_mb if stage in REGISTRIES else 0
        return int(BASE_MB + clip + cfg["chunk_size"] * frames * STORED_FRAME_MB + backend)

    return mem_mb


def chunk_group(*gpu_stages):
    """The group of a chunk's CPU stages: on a cluster, Snakemake submits connected jobs of one group as one
    job, so a chunk costs one submission, not five; local runs ignore groups. Chunks share no job but their
    describe job: one covering several chunks (describe.chunks_per_job > 1) joins their groups, so those
    chunks' stages are one cluster job, its runtime the sum of theirs. None (a job of its own) when a stage of ``gpu_stages`` runs on a GPU
    backend for the job's dataset: that job goes to a GPU partition alone, and pack, downstream of it,
    leaves the group too (a group may not be left and re-entered)."""
    return lambda wildcards: None if any(stage_backend(s, wildcards).gpu for s in gpu_stages) else "preprocess"


def backend_files(stage):
    """Files the backend reads (a checkpoint, a prompt), as inputs: replacing one, or new content in it, reruns
    the stage (Snakemake compares the checksum of a small input that is newer than the outputs, so touching
    the file does not). A relative path is looked up from the working directory, else from the repository."""

    def files(wildcards):
        cfg = DATASETS[wildcards.dataset].config[stage]
        return [str(resolve_path(cfg[key])) for key in stage_backend(stage, wildcards).files if cfg.get(key)]

    return files


def backend_conda(stage):
    """The backend's own conda environment, used with --sdm conda (the stage then runs in that
    environment's Python); None: the workflow's."""

    def env(wildcards):
        env_file = stage_backend(stage, wildcards).conda
        return os.path.join(workflow.basedir, env_file) if env_file else None

    return env


#: A job's chunk manifest (fineclipper/paths.py holds the preprocessing's path patterns).
CHUNK_MANIFEST = paths.chunk_manifest(RESULTS_ROOT, "{dataset}", "{chunk}")


def stage_params(stage):
    """The dataset's config section of a stage and the stage's version, as params: editing either reruns it."""
    return {
        "config": lambda wildcards: json.dumps(DATASETS[wildcards.dataset].config.get(stage, {}), sort_keys=True),
        "version": STAGE_VERSIONS[stage],
    }


def stage_output(stage):
    """A stage rule's outputs: its table and the failures table beside it (later rules read them as
    ``rules.<stage>.output``)."""
    table = paths.stage_table(RESULTS_ROOT, "{dataset}", stage, "{chunk}")
    return {"table": table, "failures": paths.failures_beside(table)}


def stage_log(stage):
    return f"{LOGS_ROOT}/{{dataset}}/{stage}/{{chunk}}.log"


def stage_benchmark(stage):
    return f"{RESULTS_ROOT}/{{dataset}}/benchmarks/{stage}/{{chunk}}.tsv"


def shard_paths(plan, chunks=None):
    """Shards of a dataset (of these chunks; default all)."""
    return [paths.shard(SHARDS_ROOT, plan.name, c) for c in (plan.chunks if chunks is None else chunks)]


def failure_paths(plan, chunks=None):
    """The failures tables beside :func:`shard_paths`."""
    return [paths.failures_beside(shard) for shard in shard_paths(plan, chunks)]


def chunk_manifests(plan, chunks=None):
    """Chunk manifests of a dataset (of these chunks; default all)."""
    return [paths.chunk_manifest(RESULTS_ROOT, plan.name, c) for c in (plan.chunks if chunks is None else chunks)]


def summary_path(dataset):
    return paths.summary(RESULTS_ROOT, dataset)


def caption_inputs(wildcards):
    """A chunk's own captions (written at parse time), for a dataset that has them."""
    plan = DATASETS[wildcards.dataset]
    return [plan.captions_path(wildcards.chunk)] if plan.captions is not None else []


def source_inputs(wildcards):
    """The demo's clips are made by a rule of this workflow; other sources are read as data."""
    if DATASETS[wildcards.dataset].format != "demo":
        return []
    return paths.demo_videos(RESULTS_ROOT, wildcards.dataset)


# ----- training, evaluation and the report (rules/train.smk) -----

EXPERIMENTS = {e.path: e for e in PLAN.experiments}  # "<name>/seed<k>" -> Experiment
RUN_DIR = f"{RESULTS}/experiments/{{experiment}}/seed{{seed}}"
REPORT_DIR = f"{RESULTS}/report"


def train_targets():
    if not PRIMARY.runs:
        return []
    return [f"{REPORT_DIR}/report.html"]


def experiment(wildcards):
    return EXPERIMENTS[f"{wildcards.experiment}/seed{wildcards.seed}"]


def train_params(wildcards):
    """What a training run depends on: its experiment's train section, not whether it runs or which other
    datasets it is scored on afterwards."""
    train = experiment(wildcards).train
    return json.dumps(
        {k: v for k, v in train.items() if k not in ("enabled", "zero_shot", "cross_dataset")}, sort_keys=True
    )


#: The preprocessing that builds the shards, recorded in every checkpoint (for `fineclipper predict`).
PREPROCESSING = json.dumps(preprocessing_settings(config), sort_keys=True)


def run_chunks(run, tested):
    """Chunks a run tests (``tested``) or trains on."""
    test = set(PRIMARY.runs[run])
    return PRIMARY.chunks_in(test if tested else set(PRIMARY.groups) - test)


def evaluation_inputs(tested):
    """What an evaluation reads, for ``tested(wildcards) -> (plan, groups)``: the shards, chunk manifests
    (the listed clips) and failures tables of those groups."""

    def inputs(kind):
        def input_paths(wildcards):
            plan, groups = tested(wildcards)
            chunks = plan.chunks_in(groups)
            return {"shards": shard_paths, "chunks": chunk_manifests, "failures": failure_paths}[kind](plan, chunks)

        return input_paths

    return {kind: inputs(kind) for kind in ("shards", "chunks", "failures")}


def run_outputs(pattern, tested_only=False):
    """A train or evaluate output (e.g. ``rules.evaluate.output.metrics``) of every (experiment, seed, run);
    ``tested_only``: of the runs that test a group of the dataset (an unlabelled dataset's pre-training run
    tests none)."""
    runs = [run for run, groups in PRIMARY.runs.items() if groups or not tested_only]
    return [pattern.format(experiment=e.name, seed=e.seed, run=run) for e in PLAN.experiments for run in runs]


def other_dataset_outputs(pattern):
    """An evaluate_other output (``rules.evaluate_other.output.metrics``) of every (experiment, seed, run) on
    each other dataset it is scored on: ``eval/<run>/zero_shot_<dataset>/`` (caption-pre-trained) or
    ``eval/<run>/cross_dataset_<dataset>/``."""
    return [
        pattern.format(experiment=e.name, seed=e.seed, run=run, protocol=e.protocol, target=name)
        for e in PLAN.experiments
        for name in PLAN.other_names[e.name]
        for run in PRIMARY.runs
    ]


# ----- predictions (rules/predict.smk) -----

PREDICTIONS = f"{RESULTS}/predict/predictions.csv"


def predict_checkpoint(wildcards):
    """predict.checkpoint, which the predict target needs."""
    path = config["predict"]["checkpoint"]
    if not path:
        raise ValueError(
            "the predict target needs predict.checkpoint: a trained best.pt (--config "
            '\'predict={"checkpoint": "path/to/best.pt"}\')'
        )
    return path


# Describe jobs: one covers describe.chunks_per_job chunks (rules/describe.smk).

#: SLURM minutes a describe job gets per chunk it covers (the profile's 60 per stage job): a vllm job of 8
#: chunks gets 8 hours, not the profile's default hour, after which its whole batch folder would be lost.
DESCRIBE_MINUTES_PER_CHUNK = 60


def describe_batches(dataset):
    """The dataset's chunks in describe jobs of chunks_per_job (the backend's default when null), each job
    named by its first chunk: first chunk -> the job's chunks."""
    cfg = DATASETS[dataset].config["describe"]
    size = cfg["chunks_per_job"] or backend_of("describe", cfg).chunks_per_job
    chunks = list(DATASETS[dataset].chunks)
    return {chunks[i]: chunks[i : i + size] for i in range(0, len(chunks), size)}


def batch_chunks(wildcards):
    """The chunks of the describe job named by its first chunk."""
    return describe_batches(wildcards.dataset)[wildcards.chunk]


def batch_of(wildcards):
    """The first chunk of the describe job that covers a chunk."""
    return next(first for first, chunks in describe_batches(wildcards.dataset).items() if wildcards.chunk in chunks)


def batch_folder(wildcards):
    """The batch folder of the describe job that covers a chunk."""
    return paths.describe_batch(RESULTS_ROOT, wildcards.dataset, batch_of(wildcards))


def batch_tables(stage):
    """A stage's tables of every chunk of a describe job."""
    return lambda wildcards: [
        paths.stage_table(RESULTS_ROOT, wildcards.dataset, stage, chunk) for chunk in batch_chunks(wildcards)
    ]


def batch_table(wildcards):
    """A chunk's table in the batch folder of the describe job that covers it."""
    return paths.describe_batch_table(RESULTS_ROOT, wildcards.dataset, batch_of(wildcards), wildcards.chunk)


def batch_outputs(failures):
    """The describe job's per-chunk tables (``failures``: the failures tables beside them) in its batch folder,
    quoted for the shell."""

    def outputs(wildcards):
        tables = [
            paths.describe_batch_table(RESULTS_ROOT, wildcards.dataset, wildcards.chunk, chunk)
            for chunk in batch_chunks(wildcards)
        ]
        return " ".join(shlex.quote(paths.failures_beside(t) if failures else t) for t in tables)

    return outputs
