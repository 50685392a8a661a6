"""An installed wheel works on its own (issue 9): the rubrics, the order model and the shipped
calibrators are package data, and the spaCy pipeline is built by the installed CLI into a folder
of the user's choosing.

The wheel is built offline from a copy of the project's files (pip wheel --no-build-isolation,
with setuptools and wheel from the dev extra), installed without its dependencies into a fresh
venv that sees this environment's libraries (spaCy, scikit-learn...) through a .pth file, and
run from a folder outside the source tree. The test checks that the project itself is imported
from the venv, not from the checkout. About 12 s on two busy cores, so it is not marked slow and
runs in `make test-fast` too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT


def run(args, cwd, env, timeout=300):
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv folder, environment) with the project installed from its wheel."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a copy, so that building leaves no build/ or egg-info in the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "khrushchev_essays", src / "khrushchev_essays",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".lock", "*.tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KHRUSHCHEV_", "PYTHON"))}
    env.pop("DATABASE_URL", None)
    wheels = tmp / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", wheels, src], cwd=tmp, env=env)
    [wheel] = wheels.glob("khrushchev_essays-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"khrushchev_essays/rubrics/q1_transformation.toml", "khrushchev_essays/rubrics/q2_fall_from_power.toml",
            "khrushchev_essays/models/order_model.json", "khrushchev_essays/models/phrasing_model.json",
            "khrushchev_essays/models/calibrators/q2.model.json",
            "khrushchev_essays/models/calibrators/q2.json"} <= names
    assert not any("/pipeline/" in n for n in names)  # built, not shipped

    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=tmp, env=env)
    python = venv / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env).strip())
    # The dependencies come from this environment (nothing is downloaded); the project from the wheel.
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], cwd=tmp, env=env)
    work = tmp / "work"  # outside the source tree
    work.mkdir()
    env = {**env, "KHRUSHCHEV_INSTANCE_PATH": str(tmp / "instance"), "KHRUSHCHEV_PIPELINE_DIR": str(tmp / "pipeline")}
    return venv, work, env, tmp


def test_the_project_is_imported_from_the_venv_and_finds_its_data(installed):
    venv, work, env, tmp = installed
    code = ("import json, khrushchev_essays; from khrushchev_essays.scoring.rubric import rubric_paths; "
            "from khrushchev_essays.scoring.claims import order_model; "
            "from khrushchev_essays.calibration import CALIBRATORS_DIR; "
            "print(json.dumps({'file': khrushchev_essays.__file__, 'rubrics': [p.name for p in rubric_paths()], "
            "'order': len(order_model().coef), 'calibrators': str(CALIBRATORS_DIR)}))")
    out = json.loads(run([venv / "bin" / "python", "-c", code], work, env))
    assert Path(out["file"]).resolve().is_relative_to(venv.resolve()), out["file"]
    assert not Path(out["file"]).resolve().is_relative_to(ROOT.resolve())
    assert out["rubrics"] == ["q1_transformation.toml", "q2_fall_from_power.toml"] and out["order"] > 0
    assert Path(out["calibrators"]).resolve().is_relative_to(venv.resolve())
    # Without KHRUSHCHEV_PIPELINE_DIR an installed package keeps its pipeline in the instance folder.
    bare = {k: v for k, v in env.items() if k != "KHRUSHCHEV_PIPELINE_DIR"}
    where = run([venv / "bin" / "python", "-c", "from khrushchev_essays.scoring.nlp import PIPELINE_DIR; print(PIPELINE_DIR)"],
                work, bare).strip()
    assert where == str(tmp / "instance" / "pipeline")


def test_the_instance_folder_is_found_as_flask_finds_it_in_a_checkout_and_installed(installed):
    from flask import Flask

    from khrushchev_essays.config import default_instance_path

    assert default_instance_path() == Flask("khrushchev_essays").instance_path == str(ROOT / "instance")
    venv, work, env, tmp = installed
    bare = {k: v for k, v in env.items() if k != "KHRUSHCHEV_INSTANCE_PATH"}
    code = ("from flask import Flask; from khrushchev_essays.config import default_instance_path as d; "
            "print(d()); print(Flask('khrushchev_essays').instance_path)")
    ours, flasks = run([venv / "bin" / "python", "-c", code], work, bare).split()
    assert ours == flasks and Path(ours).resolve().is_relative_to(venv.resolve())


def test_the_installed_cli_builds_the_pipeline_and_grades_an_essay(installed):
    venv, work, env, tmp = installed
    cli = venv / "bin" / "khrushchev-essays"
    missing = subprocess.run([cli, "grade", FIXTURES / "q2_medium.txt"], cwd=work, env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "build-pipeline" in missing.stderr + missing.stdout
    built = run([cli, "build-pipeline"], work, env)
    assert str(tmp / "pipeline") in built and (tmp / "pipeline" / "config.cfg").is_file()
    shutil.copy2(FIXTURES / "q2_medium.txt", work / "essay.txt")
    [report] = json.loads(run([cli, "grade", "essay.txt", "--question", "q2", "--format", "json"], work, env))
    assert report["status"] == "scored" and report["question"] == "q2"
    assert 1 <= report["level"] <= 5 and report["mark"] > 0 and report["criteria"]
    # The shipped calibrator for q2 came with the wheel and sets the level.
    side = json.loads((ROOT / "khrushchev_essays" / "models" / "calibrators" / "q2.json").read_text(encoding="utf-8"))
    assert (report["calibration"] or {}).get("model") == (side["model_id"] if side["apply"] else None)
    listed = run([cli, "rubric", "check"], work, env)
    assert "q1" in listed and "q2" in listed
