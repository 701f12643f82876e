# Middle level: face-part label maps (parsing maps) per kept frame.


rule masks:
    input:
        frames=rules.frames.output.table,
        landmarks=rules.landmarks.output.table,
        backend_files=backend_files("masks"),
    output:
        **stage_output("masks"),
    log:
        stage_log("masks"),
    benchmark:
        stage_benchmark("masks")
    group:
        chunk_group("masks")
    conda:
        backend_conda("masks")
    threads: 1
    resources:
        mem_mb=stage_mem_mb("masks"),
        gpu=needs_gpu("masks"),
    params:
        **stage_params("masks"),
    shell:
        "{PYTHON} -m fineclipper.stages.masks --frames {input.frames:q} --landmarks {input.landmarks:q}"
        " --output {output.table:q} --failures {output.failures:q} --config {params.config:q} > {log:q} 2>&1"
