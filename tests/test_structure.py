"""The package's shape: no import circle, entry points apart from the library, every stage one `stage_main`.

The import graph is read from the source (ast), with the imports inside functions, so a lazy import that
closes a circle is found too.
"""

import ast
from pathlib import Path

import pytest
from helpers import snakemake

import fineclipper

PACKAGE = Path(fineclipper.__file__).parent

#: The modules a person or a rule runs (`python -m ...`, the `fineclipper` command): the library never imports
#: them, nor they each other.
ENTRY_POINTS = {"fineclipper.cli", "fineclipper.predict", "fineclipper.train.main", "fineclipper.train.evaluate",
                "fineclipper.train.report", "fineclipper.describe.tiny_vlm"}
#: The `fineclipper` command hands each subcommand to the module that holds it.
DISPATCHER = "fineclipper.cli"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(module: str, path: Path, modules) -> set[str]:
    """The package's modules that ``module`` imports anywhere in its source (top level or inside functions);
    ``from package import name`` counts the submodule ``package.name`` where there is one, else the package."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found |= {f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                      for alias in node.names}
    return {name for name in found if name in modules and name != module}


def import_graph() -> dict[str, set[str]]:
    return {module: imported_modules(module, path, SOURCES) for module, path in SOURCES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle through each group of modules that import each other (depth-first search)."""
    found, state = [], {}  # state: 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def has_main_block(path: Path) -> bool:
    return any(isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"
               for node in ast.parse(path.read_text()).body)


def test_the_cycle_finder_finds_a_circle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_reads_relative_and_lazy_imports():
    graph = import_graph()
    assert "fineclipper.stages.common" in graph["fineclipper.stages.frames"]  # from .common import ...
    assert "fineclipper.masks.sam" not in graph["fineclipper.backends"]  # named as a string, built lazily
    assert "fineclipper.train.checkpoint" in graph["fineclipper.predict"]  # imported inside a function
    assert "fineclipper.face.regions" in graph["fineclipper.masks.sam_prompts"]  # from ..face import regions


def test_no_import_circle():
    assert cycles(import_graph()) == []


def test_entry_points_are_the_modules_with_a_main_block():
    """Every module run as a program is listed (stage modules aside: their `main` is one `stage_main` call)."""
    runnable = {m for m, path in SOURCES.items() if has_main_block(path) and not m.startswith("fineclipper.stages.")}
    assert runnable == ENTRY_POINTS


def test_no_module_imports_an_entry_point():
    graph = import_graph()
    offenders = {m: sorted(deps & ENTRY_POINTS) for m, deps in graph.items() if m != DISPATCHER and deps & ENTRY_POINTS}
    assert offenders == {}


@pytest.mark.parametrize("module", sorted(m for m, p in SOURCES.items()
                                          if m.startswith("fineclipper.stages.") and has_main_block(p)))
def test_every_stage_runs_through_stage_main(module):
    """No stage parses its own command line: its `main` is one call of `stage_main`."""
    tree = ast.parse(SOURCES[module].read_text())
    main = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main")
    assert len(main.body) == 1 and ast.unparse(main.body[0].value.func) == "stage_main"
    assert "argparse" not in {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                              for alias in node.names}


TESTS = Path(__file__).parent


def imported_test_modules(source: str) -> set[str]:
    """The `test_*` modules a test module's source imports, at the top or inside functions: what two test
    modules share belongs in tests/helpers.py."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return {name for name in found if name.split(".")[0].startswith("test_")}


def test_the_test_import_reader_finds_lazy_imports():
    source = "import os\nfrom helpers import snakemake\nimport test_a as a\n\ndef f():\n    from test_b import g\n"
    assert imported_test_modules(source) == {"test_a", "test_b"}
    assert imported_test_modules("from helpers import jpeg\nimport media\n") == set()


def test_no_test_module_imports_another():
    offenders = {path.name: sorted(imported_test_modules(path.read_text())) for path in sorted(TESTS.glob("*.py"))}
    assert {name: found for name, found in offenders.items() if found} == {}


def test_a_test_without_the_e2e_marker_cannot_start_snakemake(tmp_path):
    """The quick loop (-m 'not e2e') stays quick: the Snakemake runner names an unmarked test that calls it."""
    with pytest.raises(AssertionError, match=r"test_structure.py::test_a_test_without_the_e2e_marker_cannot_start_"
                                             r"snakemake starts Snakemake: mark it @pytest.mark.e2e"):
        snakemake(tmp_path, "-n")
