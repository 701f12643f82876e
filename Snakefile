# FineCLIPER: every video of a dataset to a WebDataset shard, then training and evaluation.
#   snakemake --cores 32 all                                    (the built-in demo, config/config.yaml)
#   snakemake --cores 32 all --configfile config/dfew.yaml      (a dataset's config stands alone)
# See docs/stages-and-backends.md for the stages, outputs and which config edits rerun which stages.

import os

from snakemake.utils import min_version

from fineclipper.config import validate_config
from fineclipper.workflow import check_sources

min_version("9.0")

# torch.compile's cache (masks.compile, train.model.compile) in the run's working directory: every masks and
# train job is a new process, and on a cluster /tmp (torch's default) is node-local, so each job would compile
# afresh. Local jobs inherit this environment, SLURM jobs too (the plugin submits with --export=ALL); a
# TORCHINDUCTOR_CACHE_DIR set by the user is kept.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.abspath(".snakemake/torchinductor"))


# Without --configfile, the built-in demo. A dataset's config file is merged over the schema's defaults
# alone, never over the demo's settings.
if not workflow.overwrite_configfiles:

    configfile: os.path.join(workflow.basedir, "config/config.yaml")


# The schema (workflow/schemas/config.schema.yaml) fills in the defaults; then what it cannot check.
validate_config(config)


include: "rules/common.smk"


wildcard_constraints:
    dataset="|".join(re.escape(name) for name in DATASETS),
    chunk=r"[A-Za-z0-9]+-\d{4}",
    experiment="|".join(re.escape(e.name) for e in PLAN.experiments) or "^$",
    seed=r"\d+",
    run="|".join(re.escape(run) for run in PRIMARY.runs) or "^$",
    target="|".join(re.escape(name) for name in OTHERS) or "^$",
    protocol="zero_shot|cross_dataset",


include: "rules/demo.smk"
include: "rules/frames.smk"
include: "rules/landmarks.smk"
include: "rules/masks.smk"
include: "rules/describe.smk"
include: "rules/pack.smk"
include: "rules/train.smk"
include: "rules/predict.smk"


# Before the first job, not at parse time (a dry run, --dag and the tests plan configs whose data is
# elsewhere): the sources of every dataset whose frames jobs are about to run must be there.
onstart:
    for _name in sorted(
        {job.wildcards.dataset for job in workflow.dag.needrun_jobs() if job.rule.name == "frames"}
    ):
        check_sources(DATASETS[_name])


rule all:
    default_target: True
    input:
        shard_paths(PRIMARY),
        summary_path(PRIMARY.name),
        train_targets(),


rule shards:
    input:
        shard_paths(PRIMARY),
        summary_path(PRIMARY.name),


rule predict:
    input:
        PREDICTIONS,
