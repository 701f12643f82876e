"""Snakemake's linter leaves only the two warnings docs/development.md explains ("Lint")."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: Lints we keep on purpose (docs/development.md, "Lint"): the interpreter is no param (a param would rerun every
#: job when the same environment lives at another path), and rules run in the workflow's own environment.
EXPLAINED = {"Shell command directly uses variable PYTHON from outside of the rule",
             "Specify a conda environment or container for each rule."}


def test_snakemake_lint(tmp_path):
    result = subprocess.run([sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory",
                             str(tmp_path), "--lint"], capture_output=True, text=True)
    titles = set(re.findall(r"^\s+\* (.+?):?$", result.stdout + result.stderr, re.M))
    assert titles and titles <= EXPLAINED, titles - EXPLAINED
