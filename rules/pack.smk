# One WebDataset shard per chunk, its failures table beside it, and the end-of-run summary.

from fineclipper.stages.pack import STAGES  # the stage outputs a shard joins


rule pack:
    input:
        chunk=chunk_file,
        **{s: f"{RESULTS}/{s}/{{chunk}}.parquet" for s in STAGES},
        **{f"{s}_failures": f"{RESULTS}/{s}/{{chunk}}.failures.parquet" for s in STAGES},
    output:
        shard=f"{SHARDS}/{{chunk}}.tar",
        failures=f"{SHARDS}/{{chunk}}.failures.parquet",
    params:
        **stage_params("pack"),
        stage_args=lambda wildcards, input: " ".join(
            f"--{s} {input[s]} --{s}-failures {input[s + '_failures']}" for s in STAGES
        ),
    log:
        stage_log("pack"),
    benchmark:
        stage_benchmark("pack")
    threads: 1
    resources:
        mem_mb=4000,
    shell:
        "{PYTHON} -m fineclipper.stages.pack --chunk {input.chunk:q} {params.stage_args}"
        " --output {output.shard:q} --failures {output.failures:q} > {log:q} 2>&1"


rule summary:
    input:
        chunks=[f"{RESULTS}/chunks/{c}.json" for c in CHUNKS],
        shards=shard_paths(),
        failures=[f"{SHARDS}/{c}.failures.parquet" for c in CHUNKS],
    output:
        SUMMARY,
    params:
        config=json.dumps(config["failures"], sort_keys=True),
    log:
        f"{LOGS}/summary.log",
    benchmark:
        f"{RESULTS}/benchmarks/summary.tsv"
    shell:
        "{PYTHON} -m fineclipper.stages.summary --chunks {input.chunks:q} --shards {input.shards:q}"
        " --failures {input.failures:q} --output {output:q} --config {params.config:q} 2>&1 | tee {log:q}"
