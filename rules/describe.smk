# High level: a description of the facial movements, with emotion words removed. One describe job covers
# describe.chunks_per_job chunks (one model load, e.g. one vLLM engine start, for all of them) and writes one
# table per chunk into its batch folder; describe_chunk puts each chunk's table where pack reads it.


rule describe:
    input:
        chunks=lambda wildcards: chunk_manifests(DATASETS[wildcards.dataset], batch_chunks(wildcards)),
        frames=batch_tables("frames"),
        landmarks=batch_tables("landmarks"),
        backend_files=backend_files("describe"),
    output:
        batch=directory(paths.describe_batch(RESULTS_ROOT, "{dataset}", "{chunk}")),
    log:
        stage_log("describe"),
    benchmark:
        stage_benchmark("describe")
    group:
        chunk_group("describe")
    conda:
        backend_conda("describe")
    threads: 1
    resources:
        mem_mb=stage_mem_mb("describe"),
        gpu=needs_gpu("describe"),
        # local runs ignore it; the profile's set-resources (or --set-resources describe:runtime=M) replaces it
        runtime=lambda wildcards: DESCRIBE_MINUTES_PER_CHUNK * len(batch_chunks(wildcards)),
    params:
        **stage_params("describe"),
        tables=batch_outputs(failures=False),
        failures=batch_outputs(failures=True),
    shell:
        "{PYTHON} -m fineclipper.stages.describe --chunk {input.chunks:q} --frames {input.frames:q}"
        " --landmarks {input.landmarks:q} --output {params.tables} --failures {params.failures}"
        " --config {params.config:q} > {log:q} 2>&1"


rule describe_chunk:
    input:
        batch_folder,
    output:
        **stage_output("describe"),
    log:
        stage_log("describe_chunk"),
    group:
        chunk_group("describe")
    localrule: True
    params:
        # describe's settings and the job's chunks: a copy is redone whenever the folder it comes from is
        # another (a batch folder left from other settings is never taken for the current one)
        **stage_params("describe"),
        batch=lambda wildcards: describe_batches(wildcards.dataset)[batch_of(wildcards)],
        table=batch_table,
        failures=lambda wildcards: paths.failures_beside(batch_table(wildcards)),
    shell:
        "(cp {params.table:q} {output.table:q}.tmp && mv {output.table:q}.tmp {output.table:q}"
        " && cp {params.failures:q} {output.failures:q}.tmp"
        " && mv {output.failures:q}.tmp {output.failures:q}) > {log:q} 2>&1"
