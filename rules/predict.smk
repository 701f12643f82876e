# A trained model's predictions for every clip of this dataset (labelled or not): `snakemake predict` with
# predict.checkpoint naming a best.pt. One file per chunk, and one merged file.


rule predict_chunk:
    input:
        checkpoint=predict_checkpoint,
        shard=paths.shard(SHARDS_ROOT, PRIMARY.name, "{chunk}"),
        failures=paths.failures_beside(paths.shard(SHARDS_ROOT, PRIMARY.name, "{chunk}")),
        chunk=paths.chunk_manifest(RESULTS_ROOT, PRIMARY.name, "{chunk}"),
    output:
        f"{RESULTS}/predict/{{chunk}}.csv",
    log:
        f"{LOGS}/predict/{{chunk}}.log",
    threads: 4
    resources:
        mem_mb=8000,
        gpu=1,
    shell:
        "{PYTHON} -m fineclipper.predict chunk --checkpoint {input.checkpoint:q} --shard {input.shard:q}"
        " --chunk {input.chunk:q} --failures {input.failures:q} --out {output:q} > {log:q} 2>&1"


rule merge_predictions:
    input:
        expand(rules.predict_chunk.output, chunk=PRIMARY.chunks),
    output:
        PREDICTIONS,
    log:
        f"{LOGS}/predict/merge.log",
    shell:
        "{PYTHON} -m fineclipper.predict merge --inputs {input:q} --out {output:q} > {log:q} 2>&1"
