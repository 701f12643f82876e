# High level: a description of the facial movements, with emotion words removed. One describe job covers
# describe.chunks_per_job chunks (one model load, e.g. one vLLM engine start, for all of them) and writes one
# table per chunk into its batch folder; describe_chunk puts each chunk's table where pack reads it.
import shlex

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


rule describe:
    input:
        chunks=lambda wildcards: [
            paths.chunk_manifest(RESULTS_ROOT, wildcards.dataset, chunk) for chunk in batch_chunks(wildcards)
        ],
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
        "cp {params.table:q} {output.table:q}.tmp && mv {output.table:q}.tmp {output.table:q}"
        " && cp {params.failures:q} {output.failures:q}.tmp"
        " && mv {output.failures:q}.tmp {output.failures:q}"
