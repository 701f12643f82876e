# High level: a description of the facial movements, with emotion words removed.


rule describe:
    input:
        chunk=CHUNK_MANIFEST,
        frames=rules.frames.output.table,
        landmarks=rules.landmarks.output.table,
        backend_files=backend_files("describe"),
    output:
        **stage_output("describe"),
    params:
        **stage_params("describe"),
    conda:
        backend_conda("describe")
    log:
        stage_log("describe"),
    benchmark:
        stage_benchmark("describe")
    group:
        chunk_group("describe")
    threads: 1
    resources:
        mem_mb=stage_mem_mb("describe"),
        gpu=needs_gpu("describe"),
    shell:
        "{PYTHON} -m fineclipper.stages.describe --chunk {input.chunk:q} --frames {input.frames:q}"
        " --landmarks {input.landmarks:q} --output {output.table:q} --failures {output.failures:q}"
        " --config {params.config:q} > {log:q} 2>&1"
