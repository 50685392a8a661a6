"""The engine's shape (issue 9): one list of criterion kinds, a validated rubric language, a
declared calibrator feature schema, and imports that run one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from khrushchev_essays.scoring import criteria, parse_rubric
from khrushchev_essays.calibration import (
    FEATURE_DETAILS,
    FEATURES_SCHEMA_HASH,
    FEATURES_VERSION,
    feature_schema_hash,
    features,
)
from khrushchev_essays.scoring.rubric import CRITERION_PARAMS, RubricError

from conftest import read_fixture

SCORING = Path(__file__).resolve().parents[2] / "khrushchev_essays" / "scoring"


def test_every_criterion_kind_has_a_params_model_and_a_function():
    assert set(CRITERION_PARAMS) == set(criteria.REGISTRY)


def test_a_misspelt_criterion_param_is_refused_with_its_field_path(q1):
    data = q1.model_dump()
    data["criteria"][0]["params"] = {"target_develped": 6}
    with pytest.raises(RubricError) as exc:
        parse_rubric(data, "test.toml")
    assert any("target_develped" in p and "criteria[0]" in p for p in exc.value.problems), exc.value.problems


def test_criterion_params_have_defaults_and_can_be_tuned(q1):
    data = q1.model_dump()
    data["criteria"][0]["params"] = {"target_developed": 5}
    tuned = parse_rubric(data, "test.toml")
    assert tuned.criteria[0].params.target_developed == 5
    assert tuned.criteria[0].params.mentioned_value == q1.criteria[0].params.mentioned_value


def test_an_unknown_detection_threshold_is_refused(q1):
    data = q1.model_dump()
    data["detection"] = {**data["detection"], "off_topic_similarty": 0.1}
    with pytest.raises(RubricError):
        parse_rubric(data, "test.toml")


def test_the_feature_schema_is_versioned():
    assert feature_schema_hash() == FEATURES_SCHEMA_HASH, (
        "the calibrator's feature schema changed: bump FEATURES_VERSION and set FEATURES_SCHEMA_HASH "
        f"to {feature_schema_hash()} (version now {FEATURES_VERSION})")


@pytest.mark.parametrize(("name", "q"), [("q1_strong.txt", "q1"), ("q2_medium.txt", "q2"), ("q2_notes.txt", "q2")])
def test_every_numeric_detail_is_declared_or_left_out_on_purpose(name, q, rubrics):
    from khrushchev_essays.scoring import score

    r = score(read_fixture(name), q)
    declared = {k for keys in FEATURE_DETAILS.values() for k in keys}
    f = features(r)
    for c in r.criteria:
        for key in c.details:
            assert (f"crit_{c.id}_{key}" in f) == (key in declared)
        assert set(FEATURE_DETAILS[c.id]) <= set(c.details), f"{c.id} no longer reports a declared feature"


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported relative to scoring, names, level) for each `from . import` in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out.append((node.module or "", [a.name for a in node.names], node.level))
    return out


def test_scoring_imports_no_private_name_from_another_module():
    for path in SCORING.glob("*.py"):
        for module, names, _level in _imports(path):
            private = [n for n in names if n.startswith("_") and n != "__version__"]
            assert not private, f"{path.name} imports {private} from .{module}"


def test_scoring_has_no_import_cycles():
    graph: dict[str, set[str]] = {}
    for path in SCORING.glob("*.py"):
        deps = set()
        for module, names, _level in _imports(path):
            if module:
                deps.add(module.split(".")[0])
            else:
                deps.update(names)  # from . import criteria
        graph[path.stem] = {d for d in deps if (SCORING / f"{d}.py").exists()} - {path.stem}
    graph.pop("__init__", None)
    seen: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        if seen.get(node) == 1:
            raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(node):], node]))
        if seen.get(node) == 2:
            return
        seen[node] = 1
        for dep in sorted(graph.get(node, ())):
            visit(dep, [*stack, node])
        seen[node] = 2

    for node in sorted(graph):
        visit(node, [])


def test_importing_the_engine_loads_no_web_or_database_library():
    code = ("import sys, khrushchev_essays.scoring; "
            "print(sorted(m for m in ('flask', 'sqlalchemy', 'flask_sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_stages_results_are_frozen_and_the_analysis_is_never_changed_by_later_stages():
    """Analysis (stage 1), Argument (2) and Findings (3) cannot be changed once made; what the
    argument stage decides about sentences lives in its own result, not on the Analysis."""
    import dataclasses

    from khrushchev_essays.scoring import default_engine

    engine = default_engine()
    text = read_fixture("q1_repetition.txt")  # has repeats: the argument stage excludes sentences
    analysis, argument, findings = engine.analyse_text(text, "q1")
    assert argument.excluded and set(argument.excluded.values()) <= {
        "copied", "repeat", "incoherent", "background", "other_question"}
    for result, name in ((analysis, "text"), (analysis.sentences[0], "real"), (argument, "thesis"),
                         (findings, "people")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, name, None)
    with pytest.raises(TypeError):
        argument.excluded[0] = "repeat"  # a read-only mapping
    # Excluded sentences keep their own reading: still `real` in the Analysis, not credited.
    for i in argument.excluded:
        s = analysis.sentences[i]
        assert s.real and not argument.credits(s)
    assert [s.index for s in argument.credited(analysis)] == [
        s.index for s in analysis.sentences if s.real and s.index not in argument.excluded]
    # Reading the same text again gives the same Analysis: nothing was left behind on shared state.
    again, argument2, _ = engine.analyse_text(text, "q1")
    assert [(s.start, s.end, s.real) for s in again.sentences] == [(s.start, s.end, s.real) for s in analysis.sentences]
    assert dict(argument2.excluded) == dict(argument.excluded)


# --- packages along seams (issue 9): inputs/, batch/, calibration/ beside scoring/ -------------
PACKAGE = SCORING.parent
SEAMS = ("inputs", "batch", "calibration", "scoring")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(name: str) -> bool:
    return (PACKAGE.parent.joinpath(*name.split(".")) / "__init__.py").is_file()


def _is_module(name: str) -> bool:
    return _is_package(name) or PACKAGE.parent.joinpath(*name.split(".")).with_suffix(".py").is_file()


def _project_imports(path: Path, top_level_only: bool):
    """(target module, names imported from it) for each import of the project's own code in a file.

    `from X import y` where X.y is a module counts as importing X.y. With `top_level_only`, only the
    imports that run when the module is imported (not those inside functions or `if TYPE_CHECKING`).
    """
    me = _module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if top_level_only:
        nodes = []
        todo = list(tree.body)
        while todo:
            node = todo.pop()
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                nodes.append(node)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
                todo.extend(node.body + node.orelse)
            elif isinstance(node, ast.Try):
                todo.extend(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])
    else:
        nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE.name:
                    yield alias.name, []
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target.split(".")[0] != PACKAGE.name:
            continue
        names = [a.name for a in node.names]
        modules = [n for n in names if _is_module(f"{target}.{n}")]
        for n in modules:
            yield f"{target}.{n}", []
        rest = [n for n in names if n not in modules]
        if rest or not modules:
            yield target, rest


def _project_files():
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _seam(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and _is_package(".".join(parts[:2])) else ""


@pytest.mark.parametrize("name", SEAMS)
def test_each_package_has_a_docstring_and_a_complete_all(name):
    import importlib

    module = importlib.import_module(f"khrushchev_essays.{name}")
    assert (module.__doc__ or "").strip(), f"{name}/__init__.py has no docstring"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names {missing}, which it does not define"
    for path in (PACKAGE / name).glob("*.py"):
        assert ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))), f"{name}/{path.name} has no docstring"


def test_no_private_module_or_name_is_imported_across_packages():
    problems = []
    for path in _project_files():
        me = _module_name(path)
        for target, names in _project_imports(path, top_level_only=False):
            if _seam(target) == _seam(me):
                continue
            if any(part.startswith("_") for part in target.split(".")):
                problems.append(f"{me} imports the private module {target}")
            problems += [f"{me} imports the private name {target}.{n}" for n in names if n.startswith("_")]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("layer", ["web", "storage"])
def test_web_and_storage_use_only_the_public_names_of_inputs_batch_and_calibration(layer):
    import importlib

    problems = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for target, names in _project_imports(path, top_level_only=False):
            seam = _seam(target)
            if seam not in ("inputs", "batch", "calibration"):
                continue
            root = f"khrushchev_essays.{seam}"
            if target != root:
                problems.append(f"{_module_name(path)} imports from {target}, not from {root}")
                continue
            public = importlib.import_module(root).__all__
            problems += [f"{_module_name(path)} imports {n}, not in {root}.__all__" for n in names if n not in public]
    assert not problems, "\n".join(problems)


def test_the_project_has_no_import_cycles():
    """Across every module of the project, the imports that run at import time never go round in a circle."""
    graph = {_module_name(p): {t for t, _n in _project_imports(p, top_level_only=True)} - {_module_name(p)}
             for p in _project_files()}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        if state.get(node) == 1:
            raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(node):], node]))
        if state.get(node) == 2:
            return
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            visit(dep, [*stack, node])
        state[node] = 2

    for node in sorted(graph):
        visit(node, [])
    assert "khrushchev_essays.calibration.apply" in graph["khrushchev_essays.scoring.engine"]


@pytest.mark.parametrize("first", ["khrushchev_essays.calibration", "khrushchev_essays.batch", "khrushchev_essays.inputs",
                                   "khrushchev_essays.scoring", "khrushchev_essays.calibration.store"])
def test_each_package_imports_on_its_own_without_flask_or_a_database(first):
    code = (f"import sys, {first}; "
            "print(sorted(m for m in ('flask', 'sqlalchemy', 'flask_sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
