# FineCLIPER preprocessing: every video of a dataset to a WebDataset shard.
#   snakemake --cores 32 all                       (the built-in demo, config/config.yaml)
#   snakemake --cores 32 all --configfile config/dfew.yaml
# See README.md for the stages, outputs and which config edits rerun which stages.

import os

from snakemake.utils import min_version, validate

min_version("9.0")


# The demo defaults; --configfile FILE merges a dataset's settings over them.
configfile: os.path.join(workflow.basedir, "config/config.yaml")


validate(config, os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml"), set_default=True)


include: "rules/common.smk"
include: "rules/demo.smk"
include: "rules/frames.smk"
include: "rules/landmarks.smk"
include: "rules/masks.smk"
include: "rules/describe.smk"
include: "rules/pack.smk"
include: "rules/train.smk"


rule all:
    input:
        shard_paths(),
        SUMMARY,
        train_targets(),
    default_target: True


rule shards:
    input:
        shard_paths(),
