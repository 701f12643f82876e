# One WebDataset shard per chunk, its failures table beside it, and the end-of-run summary.

from fineclipper.paths import STAGES  # the stage outputs a shard joins

#: The rule whose outputs are a stage's per-chunk tables (a describe job covers several chunks; describe_chunk
#: puts each chunk's table in place).
TABLE_RULES = {**{stage: stage for stage in STAGES}, "describe": "describe_chunk"}


rule pack:
    input:
        **{s: getattr(rules, TABLE_RULES[s]).output.table for s in STAGES},
        **{f"{s}_failures": getattr(rules, TABLE_RULES[s]).output.failures for s in STAGES},
        chunk=CHUNK_MANIFEST,
        captions=caption_inputs,
    output:
        shard=paths.shard(SHARDS_ROOT, "{dataset}", "{chunk}"),
        failures=paths.failures_beside(paths.shard(SHARDS_ROOT, "{dataset}", "{chunk}")),
    log:
        stage_log("pack"),
    benchmark:
        stage_benchmark("pack")
    group:
        chunk_group("masks", "describe")
    threads: 1
    resources:
        mem_mb=stage_mem_mb("pack"),
    params:
        version=STAGE_VERSIONS["pack"],
        stage_args=lambda wildcards, input: " ".join(
            f"--{s} {input[s]} --{s}-failures {input[s + '_failures']}" for s in STAGES
        )
        + "".join(f" --captions {path}" for path in input.captions),
    shell:
        "{PYTHON} -m fineclipper.stages.pack --chunk {input.chunk:q} {params.stage_args}"
        " --output {output.shard:q} --failures {output.failures:q} > {log:q} 2>&1"


rule summary:
    input:
        chunks=lambda wildcards: chunk_manifests(DATASETS[wildcards.dataset]),
        shards=lambda wildcards: shard_paths(DATASETS[wildcards.dataset]),
        failures=lambda wildcards: failure_paths(DATASETS[wildcards.dataset]),
    output:
        summary_path("{dataset}"),
    log:
        f"{LOGS_ROOT}/{{dataset}}/summary.log",
    benchmark:
        f"{RESULTS_ROOT}/{{dataset}}/benchmarks/summary.tsv"
    params:
        config=lambda wildcards: json.dumps(DATASETS[wildcards.dataset].config["failures"], sort_keys=True),
    shell:
        "{PYTHON} -m fineclipper.stages.summary --chunks {input.chunks:q} --shards {input.shards:q}"
        " --failures {input.failures:q} --output {output:q} --config {params.config:q} 2>&1 | tee {log:q}"
