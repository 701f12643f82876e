"""Every command the docs quote names real things, so a renamed target, option, key or file fails here rather
than on a reader's first try: Snakemake targets, options, config files and keys; `fineclipper` subcommands and
the options of every entry point and benchmark (their own argparse parsers, built and asked, nothing run);
pytest markers and test files; repository paths; and the links between the pages."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib
import importlib.util
import json
import re
import runpy
import shlex
import sys
from pathlib import Path
from unittest import mock

import pytest
import yaml

from fineclipper import REPO_ROOT
from fineclipper.config import SCHEMA

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib  # pytest's own TOML reader before Python 3.11

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
#: Programs whose quoted command lines are checked (apt-get, echo, conda, ruff are not ours to check).
PROGRAMS = {"snakemake", "fineclipper", "python", "python3", "pytest", "torchrun", "bash", "pip"}
#: Folders a run writes: paths below them are outputs, not shipped files.
OUTPUT_FOLDERS = {"results", "shards", "logs"}
SHELL_SEPARATORS = {"&&", "||", ";", "|"}
#: File name endings, so that `metrics.json` is not read as the config key `metrics.json`.
FILE_SUFFIXES = {"py", "json", "jsonl", "yaml", "yml", "pt", "pth", "csv", "parquet", "tar", "png", "jpg", "txt",
                 "tsv", "smk", "html", "md", "npy", "task", "sh", "mp4", "log", "toml"}
CONFIG_KEY = re.compile(r"(?P<key>[a-z_]+(?:\.(?:[a-z_0-9]+|\*))+)(?::\s.*)?")
REPO_PATH = re.compile(r"[\w.-]+(?:/[\w.*-]+)*/?")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`([^`]+)`")
PROGRAM_OUTPUT = re.compile(r"\S+(?: \S+)?: error:")
ENVIRONMENT_SETTING = re.compile(r"[A-Z_]+=\S*")
OPTIONAL_GROUP = re.compile(r"\[(-[^\[\]]*)\]")  # `demo-data --out DIR [--config JSON]`


class UsageError(Exception):
    """What an argparse parser would have printed before exiting."""


class ParserBuilt(Exception):
    """Carries the parser an entry point built, stopping it before it parses (and runs) anything."""

    def __init__(self, parser: argparse.ArgumentParser):
        super().__init__()
        self.parser = parser


def strict(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The parser and its subcommands' parsers with abbreviated options refused, so a quoted option must be
    spelt out as the parser has it."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                strict(sub)
    return parser


def parser_built_by(main) -> argparse.ArgumentParser:
    """The argparse parser an entry point's ``main()`` builds, taken at its ``parse_args`` call."""
    def capture(self, *args, **kwargs):
        raise ParserBuilt(self)

    with mock.patch.object(argparse.ArgumentParser, "parse_args", capture):
        try:
            main()
        except ParserBuilt as built:
            return strict(built.parser)
    raise AssertionError(f"{main.__module__}.main() parsed no arguments")


@functools.cache
def module_parser(module: str) -> argparse.ArgumentParser:
    """The parser of ``python -m module``."""
    return parser_built_by(importlib.import_module(module).main)


@functools.cache
def script_parser(script: str) -> argparse.ArgumentParser:
    """The parser of ``python script`` (its folder first on sys.path, as Python runs it)."""
    path = REPO_ROOT / script
    sys.path.insert(0, str(path.parent))
    try:
        return parser_built_by(runpy.run_path(str(path), run_name=path.stem)["main"])
    finally:
        sys.path.remove(str(path.parent))


@functools.cache
def snakemake_parser() -> argparse.ArgumentParser:
    from snakemake.cli import get_argument_parser

    return strict(get_argument_parser())


@functools.cache
def torchrun_parser() -> argparse.ArgumentParser:
    from torch.distributed.run import get_args_parser

    return strict(get_args_parser())


@functools.cache
def pytest_parser():
    from _pytest.config import get_config

    return get_config()._parser


@functools.cache
def pyproject() -> dict:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


@functools.cache
def schema() -> dict:
    return yaml.safe_load(SCHEMA.read_text())


@functools.cache
def rule_names() -> frozenset[str]:
    """The rules of the Snakefile and rules/*.smk."""
    sources = [REPO_ROOT / "Snakefile", *(REPO_ROOT / "rules").glob("*.smk")]
    return frozenset(name for source in sources
                     for name in re.findall(r"^(?:rule|checkpoint)\s+(\w+)\s*:", source.read_text(), re.M))


@functools.cache
def shipped_top_level() -> frozenset[str]:
    """The repository's top-level files and folders a quoted path may start with (outputs excluded)."""
    return frozenset(p.name for p in REPO_ROOT.iterdir() if not p.name.startswith(".") or p.name == ".ci")


def page_text(page: Path) -> str:
    return page.read_text(encoding="utf-8")


def code_blocks(text: str) -> list[tuple[int, str, str]]:
    """A page's fenced code blocks as (line of the first code line, language, code)."""
    blocks, block, start, language = [], None, 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        fence = re.match(r"\s*```(\w*)", line)
        if fence and block is None:
            block, start, language = [], number + 1, fence.group(1)
        elif fence:
            blocks.append((start, language, "\n".join(block)))
            block = None
        elif block is not None:
            block.append(line)
    return blocks


def prose(text: str) -> str:
    """A page with its code blocks blanked out, line numbers kept."""
    lines, inside = [], False
    for line in text.splitlines():
        fence = line.lstrip().startswith("```")
        lines.append("" if inside or fence else line)
        inside ^= fence
    return "\n".join(lines)


def commands_of(code: str) -> list[tuple[int, list[str]]]:
    """The command lines of a shell block as (line offset, words), split at &&, ||, ; and |, comments dropped."""
    commands, offset = [], 0
    for number, logical in enumerate(code.replace("\\\n", "\x00").splitlines()):
        words = shlex.split(logical.replace("\x00", " "), comments=True)
        command = []
        for word in [*words, "&&"]:
            if word in SHELL_SEPARATORS:
                if command:
                    commands.append((offset + number, command))
                command = []
            else:
                command.append(word)
        offset += logical.count("\x00")
    return commands


def docs_config_files() -> dict[str, dict]:
    """Config files the docs write out in full: YAML blocks whose first line is ``# name.yaml``."""
    found = {}
    for page in PAGES:
        for _, language, code in code_blocks(page_text(page)):
            name = re.match(r"#\s*([\w./-]+\.ya?ml)\b", code)
            if language == "yaml" and name:
                found[name.group(1)] = yaml.safe_load(code)
    return found


def config_file(name: str) -> dict | None:
    """A config file a command names, from the repository or written out in the docs (None: neither)."""
    if (REPO_ROOT / name).is_file():
        return yaml.safe_load((REPO_ROOT / name).read_text())
    return docs_config_files().get(name)


def config_key_problems(parts: list[str], value=None) -> list[str]:
    """What of a config key (and, for a mapping value, the keys inside it) the schema does not have;
    ``train.model`` holds ModelConfig's fields."""
    from fineclipper.model.config import ModelConfig

    node = schema()
    for depth, part in enumerate(parts):
        name = ".".join(parts[: depth + 1])
        if parts[:depth] == ["train", "model"]:
            fields = {field.name for field in dataclasses.fields(ModelConfig)}
            return [] if part in fields | {"*"} else [f"config key {name}: no such ModelConfig field"]
        properties = node.get("properties")
        if properties is None or part == "*":
            return []  # a list, or a mapping the schema leaves open
        if part not in properties:
            if node.get("additionalProperties") is True:
                return []
            return [f"config key {name}: not in workflow/schemas/config.schema.yaml"]
        node = properties[part]
    if isinstance(value, dict):
        return [problem for key, inner in value.items() for problem in config_key_problems([*parts, key], inner)]
    return []


def parse_problems(parser, args: list[str], whole: bool) -> tuple[argparse.Namespace | None, list[str]]:
    """Parse the arguments with the real parser; a quote that is not a whole command may leave out required
    arguments."""
    def refuse(self, *message):
        raise UsageError(" ".join(str(part) for part in message))

    with mock.patch.object(argparse.ArgumentParser, "error", refuse), \
            mock.patch.object(argparse.ArgumentParser, "exit", refuse):
        try:
            return parser.parse_args(args), []
        except UsageError as error:
            if not whole and "arguments are required" in str(error):
                return None, unknown_option_problems(parser, args)
            return None, [f"{parser.prog}: {error}"]


def parser_options(parser: argparse.ArgumentParser, args: list[str]) -> set[str]:
    """The options of a parser and of the subcommands the arguments name."""
    options = set(parser._option_string_actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name in set(args) & set(action.choices):
                options |= parser_options(action.choices[name], args)
    return options


def unknown_option_problems(parser: argparse.ArgumentParser, args: list[str]) -> list[str]:
    """Options of a partial command line that its parser does not have (parsing stops at the missing ones)."""
    options = parser_options(parser, args)
    return [f"{parser.prog}: no option {word}" for word in args
            if word.startswith("-") and word.split("=")[0] not in options]


def path_problems(words: list[str]) -> list[str]:
    """Quoted paths into the repository's own files and folders that do not exist (a glob: that matches none)."""
    problems = []
    for word in words:
        first = word.split("/")[0]
        if not REPO_PATH.fullmatch(word) or first not in shipped_top_level() or first in OUTPUT_FOLDERS:
            continue
        if not (any(REPO_ROOT.glob(word.rstrip("/"))) if "*" in word else (REPO_ROOT / word).exists()):
            problems.append(f"{word} does not exist")
    return problems


def output_path_problems(target: str, dataset: str) -> list[str]:
    """A path target below results/ or shards/ names the dataset of the command's config."""
    parts = target.split("/")
    if parts[0] in OUTPUT_FOLDERS and len(parts) > 2 and parts[1] != dataset:
        return [f"{target}: a {parts[1]} path, but the command's config is dataset {dataset!r} "
                f"(give its --configfile)"]
    return []


def snakemake_problems(args: list[str], whole: bool) -> list[str]:
    options, problems = parse_problems(snakemake_parser(), args, whole)
    if options is None:
        return problems
    names = [str(path) for path in options.configfile or []] or ["config/config.yaml"]
    configs = [config_file(name) for name in names]
    problems += [f"--configfile {name}: no such file (in the repository or written out in the docs)"
                 for name, config in zip(names, configs) if config is None]
    configs = [config for config in configs if config]
    dataset = next((c["dataset"]["name"] for c in reversed(configs) if "name" in c.get("dataset", {})), "demo")
    experiments = next(([e["name"] for e in c["experiments"]] for c in reversed(configs) if "experiments" in c),
                       ["main"])
    for target in [*options.targets, *(options.forcerun or [])]:
        if "/" in target:
            problems += output_path_problems(target, dataset)
        elif target not in rule_names():
            problems.append(f"snakemake target {target!r}: no such rule")
    for item in options.config or []:
        key, _, text = item.partition("=")
        value = yaml.safe_load(text)
        problems += config_key_problems(key.split("."), value)
        if key == "select_experiments":
            problems += [f"select_experiments: no experiment {name!r} in {names[-1]}"
                         for name in value if name not in experiments]
    return problems


def pytest_problems(args: list[str]) -> list[str]:
    options, unknown = pytest_parser().parse_known_and_unknown_args(args)
    markers = {line.split(":")[0] for line in pyproject()["tool"]["pytest"]["ini_options"]["markers"]}
    words = set(re.findall(r"\w+", options.markexpr or "")) - {"and", "or", "not"}
    return ([f"pytest: unknown option {word}" for word in unknown]
            + [f"pytest marker {word!r}: not registered in pyproject.toml" for word in sorted(words - markers)]
            + [f"{path}: no such test file" for path in options.file_or_dir
               if not (REPO_ROOT / path.split("::")[0]).exists()])


def python_problems(args: list[str], whole: bool) -> list[str]:
    if args[:1] == ["-c"]:
        compile(args[1], "<quoted in the docs>", "exec")
        return []
    if args[:1] == ["-m"]:
        module, rest = args[1], args[2:]
        if module == "pytest":
            return pytest_problems(rest)
        if module.split(".")[0] == "fineclipper":
            options, problems = parse_problems(module_parser(module), rest, whole)
            if module == "fineclipper.train.main" and options:  # --config: the train section as JSON
                problems += config_key_problems(["train"], json.loads(options.config))
            return problems
        return [] if importlib.util.find_spec(module) else [f"python -m {module}: no such module"]
    if not (REPO_ROOT / args[0]).is_file():
        return [f"python {args[0]}: no such script"]
    return parse_problems(script_parser(args[0]), args[1:], whole)[1]


def torchrun_problems(args: list[str], whole: bool) -> list[str]:
    options, problems = parse_problems(torchrun_parser(), args, whole)
    if options is None or not options.module:
        return problems
    return python_problems(["-m", options.training_script, *options.training_script_args], whole)


def bash_problems(args: list[str]) -> list[str]:
    script = REPO_ROOT / args[0]
    if not script.is_file():
        return [f"bash {args[0]}: no such script"]
    text = script.read_text()
    return [f"bash {args[0]}: it takes no option {word}" for word in args[1:]
            if word.startswith("-") and not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]


def pip_problems(args: list[str]) -> list[str]:
    extras = pyproject()["project"]["optional-dependencies"]
    return [f"pip: no extra {extra!r} in pyproject.toml" for word in args
            for group in re.findall(r"^\.\[([\w,-]+)\]$", word) for extra in group.split(",") if extra not in extras]


def program_words(words: list[str]) -> list[str]:
    """A command line without the environment settings before its program."""
    while words and ENVIRONMENT_SETTING.fullmatch(words[0]):
        words = words[1:]
    return words


def is_checked_command(words: list[str]) -> bool:
    words = program_words(words)
    return bool(words) and Path(words[0]).name in PROGRAMS


def command_problems(words: list[str], whole: bool) -> list[str]:
    """What a quoted command names that does not exist. ``whole``: a command line of a code block; an inline
    mention (``fineclipper predict``) may leave out required arguments, as may one with an elision
    (``...same arguments...``)."""
    words = program_words(words)
    program, args = Path(words[0]).name, words[1:]
    whole = whole and not any(word.startswith("...") for word in args)
    args = [word for word in args if not word.startswith("...")]
    problems = path_problems(args)
    if program == "snakemake":
        problems += snakemake_problems(args, whole)
    elif program == "fineclipper":
        problems += parse_problems(module_parser("fineclipper.cli"), args, whole)[1]
    elif program in ("python", "python3"):
        problems += python_problems(args, whole)
    elif program == "pytest":
        problems += pytest_problems(args)
    elif program == "torchrun":
        problems += torchrun_problems(args, whole)
    elif program == "bash":
        problems += bash_problems(args)
    elif program == "pip":
        problems += pip_problems(args)
    return problems


@functools.cache
def known_options() -> frozenset[str]:
    """Every option of the parsers the docs' commands use, for an option quoted on its own (`--top-k`)."""
    parsers = [snakemake_parser(), torchrun_parser(), module_parser("fineclipper.cli"),
               module_parser("fineclipper.train.main"), module_parser("fineclipper.train.evaluate"),
               *(script_parser(f"benchmarks/{path.name}") for path in (REPO_ROOT / "benchmarks").glob("*.py")
                 if "def main(" in path.read_text())]
    options = set()
    while parsers:
        parser = parsers.pop()
        options |= set(parser._option_string_actions)
        parsers += [sub for action in parser._actions if isinstance(action, argparse._SubParsersAction)
                    for sub in action.choices.values()]
    scripts = (REPO_ROOT / "workflow/envs").glob("*.sh")
    return frozenset(options | {word for script in scripts for word in re.findall(r"--[\w-]+", script.read_text())})


def span_problems(span: str) -> list[str]:
    """What an inline code span names that does not exist: a command, an option on its own, a config key, a
    repository path (anything else is not checked)."""
    span = span.replace("\n", " ").strip()
    if PROGRAM_OUTPUT.match(span):
        return []
    if span.startswith("-"):
        option, *values = re.split(r"[ =]", span)
        unknown = [] if option in known_options() else [f"option {option}: no command of ours has it"]
        return unknown + path_problems(values)
    try:
        words = shlex.split(OPTIONAL_GROUP.sub(r"\1", span))
    except ValueError:
        return []  # prose in code font, not a command line
    if is_checked_command(words):
        return command_problems(words, whole=False)
    key = CONFIG_KEY.fullmatch(span)
    if key:
        parts = key.group("key").split(".")
        if parts[-1] not in FILE_SUFFIXES and parts[0] in {*schema()["properties"], "model"}:
            return config_key_problems(["train", *parts] if parts[0] == "model" else parts)
    return path_problems([span])


def heading_anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", prose(page_text(page)), re.M)
    return {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}


def link_problems(page: Path, target: str) -> list[str]:
    """A relative link to a file that does not exist, or to a heading that file does not have."""
    if re.match(r"[a-z]+:", target):
        return []
    path, _, anchor = target.partition("#")
    linked = (page.parent / path).resolve() if path else page
    if not linked.exists():
        return [f"link {target}: no such file"]
    if anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked):
        return [f"link {target}: {linked.name} has no heading #{anchor}"]
    return []


def quoted(page: Path) -> list[tuple[int, str, list[str]]]:
    """Everything a page quotes, as (line, what, problems)."""
    text = page_text(page)
    found = [(start + offset, shlex.join(words), command_problems(words, whole=True))
             for start, language, code in code_blocks(text) if language in ("bash", "sh")
             for offset, words in commands_of(code) if is_checked_command(words)]
    plain = prose(text)
    for match in INLINE_CODE.finditer(plain):
        line = plain.count("\n", 0, match.start()) + 1
        found.append((line, match.group(1), span_problems(match.group(1))))
    for match in MARKDOWN_LINK.finditer(plain):
        line = plain.count("\n", 0, match.start()) + 1
        found.append((line, match.group(1), link_problems(page, match.group(1))))
    return found


def test_every_quoted_command_names_real_things():
    problems = [f"{page.relative_to(REPO_ROOT)}:{line}: {what!r}: {problem}"
                for page in PAGES for line, what, found in quoted(page) for problem in found]
    assert not problems, "\n".join(problems)


def test_the_check_sees_every_kind_of_command():
    """The extraction finds what the pages hold, so the test above cannot pass by finding nothing."""
    commands = [program_words(words) for page in PAGES for _, language, code in code_blocks(page_text(page))
                if language == "bash" for _, words in commands_of(code) if is_checked_command(words)]
    assert {"snakemake", "fineclipper", "python", "torchrun", "bash", "pip"} <= {Path(c[0]).name for c in commands}
    assert len(commands) >= 25


@pytest.mark.parametrize("span, problem", [
    ("fineclipper predict --checkpoint best.pt clip.mp4 --frobnicate 3", "unrecognized arguments: --frobnicate"),
    ("fineclipper predict --check best.pt clip.mp4", "no option --check"),
    ("fineclipper inspect --checkpoint best.pt", "unrecognized arguments: --checkpoint"),  # predict's
    ("fineclipper inspect", None),  # an inline mention may leave out what is required
    ("fineclipper summarise shards/demo", "invalid choice: 'summarise'"),
    ("snakemake --cores 2 everything", "target 'everything': no such rule"),
    ("snakemake --cores 2 all --frobnicate", "unrecognized arguments: --frobnicate"),
    ("snakemake --cores 2 all --configfile config/nope.yaml", "--configfile config/nope.yaml: no such file"),
    ("snakemake --cores 32 all --forcerun results/dfew/frames/fold1-0003.parquet", "dataset 'demo'"),
    ("snakemake --cores 2 all --config 'train={\"epoch\": 3}'", "config key train.epoch"),
    ("snakemake --cores 2 all --config 'train={\"model\": {\"varient\": \"base\"}}'", "train.model.varient"),
    ("snakemake --cores 2 all --configfile config/dfew.yaml --config 'select_experiments=[\"starplus-b17\"]'",
     "no experiment 'starplus-b17'"),
    ("python benchmarks/loader.py --shardz 'shards/demo/*.tar'", "unrecognized arguments: --shardz"),
    ("python benchmarks/nope.py", "no such script"),
    ("python -m fineclipper.train.main --shards x --out y --classes [] --epochs 3", "--epochs"),
    ("python -m pytest -m nomarker tests/test_docs.py", "marker 'nomarker'"),
    ("python -m pytest tests/test_nothing.py", "tests/test_nothing.py"),
    ("torchrun --nproc-per-nod 8 -m fineclipper.train.main ...", "--nproc-per-nod"),
    ("bash workflow/envs/vllm-venv.sh --gpu", "no option --gpu"),
    ("pip install -e '.[slurmm]'", "no extra 'slurmm'"),
    ("--top-kk", "option --top-kk"),
    ("--configfile config/nope.yaml", "config/nope.yaml does not exist"),
    ("train.model.varient", "train.model.varient"),
    ("model.variant", None),
    ("frames.max_frame", "config key frames.max_frame"),
    ("fineclipper/stages/nope.py", "does not exist"),
])
def test_a_made_up_name_is_caught(span, problem):
    found = span_problems(span)
    if problem is None:
        assert found == []
    else:
        assert any(problem in p for p in found), found


def test_a_broken_link_is_caught():
    readme = REPO_ROOT / "README.md"
    assert link_problems(readme, "docs/configuration.md") == []
    assert "no such file" in link_problems(readme, "docs/nope.md")[0]
    assert "has no heading #no-such-heading" in link_problems(readme, "docs/configuration.md#no-such-heading")[0]
