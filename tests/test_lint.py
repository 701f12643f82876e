"""Snakemake's linter leaves only the two warnings docs/development.md explains ("Lint")."""

import re

import pytest
from helpers import snakemake

#: Lints we keep on purpose (docs/development.md, "Lint"): the interpreter is no param (a param would rerun
#: every job when the same environment lives at another path), and rules run in the workflow's own environment.
EXPLAINED = {"Shell command directly uses variable PYTHON from outside of the rule",
             "Specify a conda environment or container for each rule."}


@pytest.mark.e2e
def test_snakemake_lint(tmp_path):
    result = snakemake(tmp_path, "--lint", configs=(), check=False)
    titles = set(re.findall(r"^\s+\* (.+?):?$", result.stdout + result.stderr, re.M))
    assert titles and titles <= EXPLAINED, titles - EXPLAINED
