"""Training and evaluation over the shards: data pipeline, entry point, epoch engine, checkpoints, metrics."""
