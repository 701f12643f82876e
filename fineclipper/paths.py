"""Where a run writes: the per-chunk stages' names, every path pattern of the preprocessing and the names of
the files a training run and an evaluation write into their folders, each defined once.

The rules, the chunk plan (:mod:`fineclipper.workflow`), the stages and the benchmarks all take their paths
from here. Each function joins an output root (config ``results`` or ``shards``), a dataset and a chunk; a
rule passes Snakemake wildcards (``"{dataset}"``, ``"{chunk}"``) and gets its pattern. The folders of
training, evaluation, the report and predictions, and the logs, are the rules' (``rules/common.smk``).
"""

from __future__ import annotations

#: The per-chunk stages whose tables a shard joins, in pipeline order.
STAGES = ("frames", "landmarks", "masks", "describe")


def demo_videos(results: str, dataset: str) -> str:
    """The folder of the demo dataset's rendered clips (``dataset.format: demo``): the workflow's own source."""
    return f"{results}/{dataset}/videos"


def chunk_manifest(results: str, dataset: str, chunk: str) -> str:
    """A chunk's manifest, written at parse time: its rows and the dataset's class names."""
    return f"{results}/{dataset}/chunks/{chunk}.json"


def chunk_captions(results: str, dataset: str, chunk: str) -> str:
    """A chunk's own captions (clip id -> caption), written at parse time for a dataset that has them."""
    return f"{results}/{dataset}/captions/{chunk}.json"


def stage_table(results: str, dataset: str, stage: str, chunk: str) -> str:
    """The table a stage writes for a chunk."""
    return f"{results}/{dataset}/{stage}/{chunk}.parquet"


def describe_batch(results: str, dataset: str, first_chunk: str) -> str:
    """The folder of a describe job covering several chunks (named by its first): a table per chunk."""
    return f"{results}/{dataset}/describe/batches/{first_chunk}"


def describe_batch_table(results: str, dataset: str, first_chunk: str, chunk: str) -> str:
    """A chunk's describe table in the batch folder of the job that covers it (its failures table beside it)."""
    return f"{describe_batch(results, dataset, first_chunk)}/{chunk}.parquet"


def shard(shards: str, dataset: str, chunk: str) -> str:
    """A chunk's WebDataset shard."""
    return f"{shards}/{dataset}/{chunk}.tar"


def failures_beside(path: str) -> str:
    """The failures table written beside a stage table or a shard: ``<name>.failures.parquet``."""
    return f"{path.rsplit('.', 1)[0]}.failures.parquet"


def summary(results: str, dataset: str) -> str:
    """A dataset's end-of-preprocessing summary."""
    return f"{results}/{dataset}/summary.json"


#: What a training run writes into its folder (fineclipper.train.main): the checkpoint of its best epoch, that of
#: its last epoch (to resume from), its summary and its per-epoch records.
BEST_CHECKPOINT = "best.pt"
LAST_CHECKPOINT = "last.pt"
TRAIN_SUMMARY = "train_summary.json"
TRAIN_CURVES = "metrics.jsonl"
#: What an evaluation writes into its folder (fineclipper.train.evaluate): the figures, the confusion matrix and
#: each listed clip's prediction.
EVAL_METRICS = "metrics.json"
CONFUSION_PLOT = "confusion.png"
EVAL_PREDICTIONS = "predictions.csv"
