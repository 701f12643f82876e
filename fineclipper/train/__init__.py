"""Training and evaluation over the shards: data pipeline, metrics, loop, checkpoints."""
