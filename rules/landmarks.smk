# Middle level: MediaPipe face landmarks (478 points) per kept frame.


rule landmarks:
    input:
        frames=rules.frames.output.table,
    output:
        **stage_output("landmarks"),
    log:
        stage_log("landmarks"),
    benchmark:
        stage_benchmark("landmarks")
    group:
        chunk_group()
    threads: 1
    resources:
        mem_mb=stage_mem_mb("landmarks"),
    params:
        **stage_params("landmarks"),
    shell:
        "{PYTHON} -m fineclipper.stages.landmarks --frames {input.frames:q} --output {output.table:q}"
        " --failures {output.failures:q} --config {params.config:q} > {log:q} 2>&1"
