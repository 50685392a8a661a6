"""Where calibrators live, how they are saved, and the checks a file passes before it is used.

A calibrator retrained on this installation (the teachers' Retrain button, `train --from-db`) lives
in the instance folder, `instance/calibrators/` (0700, files 0600), and is tried first; the ones
shipped in the package (`khrushchev_essays/models/calibrators`, package data) come next. A
retrained model that fails any check is passed over for the shipped one, and the status says why
(`CalibratorStatus.passed_over`).

Files. `<qid>.model.json` holds the model as plain numbers (linear.LinearCalibrator: no pickle,
nothing runs when it is read, and scoring needs no scikit-learn); `<qid>.json`, its sidecar,
records the sha256 of the model file, the feature schema (FEATURES_VERSION and its hash), the
feature names, the rubric's fingerprint and the training facts. A calibrator is used only from
those two folders (or a folder a caller names in code), and only when the hash, the schema, the
names and the fingerprint all match; the scikit-learn version that trained it is recorded, not
checked (the file is numbers, not code). A sidecar of format 1 (the pickled .joblib models of
earlier versions) is refused: retrain. A model whose cross-validated agreement did not beat the
rules' is saved (so the figures can be read) but marked not to be used unless trained with
`always_apply`.

Changes on disk are noticed: each status is cached by the files' mtime and size, so a worker
process picks up a model another process retrained on its next score, without a restart.

Turning it off: the environment variable KHRUSHCHEV_CALIBRATION=off (read on every call, so it
also reaches spawned batch workers), or `enabled=False`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import private_folder
from ..resources import data_path
from .errors import TrainingError
from .features import FEATURES_SCHEMA_HASH, FEATURES_VERSION
from .linear import LinearCalibrator

if TYPE_CHECKING:
    from ..scoring.rubric import Rubric

log = logging.getLogger(__name__)

# The shipped calibrators, package data written only by `make calibrate` (developers, from the
# marked sets). Retrained ones (the Retrain button, `train --from-db`) go to instance/calibrators
# and are tried first; the shipped folder is never written at run time.
CALIBRATORS_DIR = data_path("models", "calibrators")
INSTANCE_CALIBRATORS = "calibrators"
ENV_SWITCH = "KHRUSHCHEV_CALIBRATION"
SIDECAR_FORMAT = 2  # 1: a pickled .joblib model (no longer loaded); 2: <qid>.model.json
MODEL_SUFFIX = ".model.json"
RANDOM_STATE = 0
_QID = re.compile(r"^[a-z][a-z0-9_]*$")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def save_calibrator(estimator, rubric: Rubric, out_dir: str | Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Write a fitted model.RuleResidualRegressor as <qid>.model.json, and its sidecar <qid>.json,
    into out_dir; return the sidecar.

    `meta` adds the training facts (training_size, source, cv, residual_sd, apply...). The model
    file is written first and hashed, so the sidecar vouches for exactly those bytes; each file
    is written beside its final name and renamed over it.
    """
    from importlib.metadata import version

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / f"{rubric.id}{MODEL_SUFFIX}"
    tmp = out / f".{model_path.name}.tmp"
    tmp.write_text(LinearCalibrator.from_estimator(estimator).to_json(), encoding="utf-8")
    tmp.replace(model_path)
    sha = _sha256(model_path)
    date = meta.get("date") or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    sidecar = {
        "format": SIDECAR_FORMAT,
        "question": rubric.id,
        "model_id": f"{rubric.id}-{date.replace('-', '')}-{sha[:8]}",
        "sklearn_version": version("scikit-learn"),
        "features_version": FEATURES_VERSION,
        "features_schema_hash": FEATURES_SCHEMA_HASH,
        "model_file": model_path.name,
        "feature_names": list(estimator.feature_names),
        "rubric_fingerprint": rubric.fingerprint(),
        "random_state": RANDOM_STATE,
        "date": date,
        "sha256": sha,
        "estimator": type(estimator).__name__,
        "alpha": getattr(estimator, "alpha_", None),
        **{k: v for k, v in meta.items() if k != "date"},
    }
    side_path = out / f"{rubric.id}.json"
    side_tmp = out / f".{side_path.name}.tmp"
    side_tmp.write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    side_tmp.replace(side_path)
    return sidecar


@dataclass(frozen=True, slots=True)
class Calibrator:
    """A loaded, checked calibrator and the facts from its sidecar."""

    model_id: str
    estimator: LinearCalibrator  # predict(X) as the fitted model.RuleResidualRegressor did
    feature_names: list[str]
    sidecar: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CalibratorStatus:
    """Whether a question's level comes from a calibrator, and if not, why not."""

    question: str
    calibrator: Calibrator | None
    reason: str  # "using <model id>" or why the rules decide
    serious: bool = False  # a damaged or mismatched file (logged as a warning), not just "none yet"
    origin: str = ""  # where the answer came from: "instance" (retrained here), "shipped", or "" (a folder given)
    folder: str = ""
    passed_over: str | None = None  # why a retrained calibrator in the instance folder is not the one used

    @property
    def active(self) -> bool:
        return self.calibrator is not None


_cache: dict[tuple, tuple[tuple, CalibratorStatus]] = {}
_cache_lock = threading.Lock()
_logged: set[tuple[str, str]] = set()


def calibration_enabled(enabled: bool | None = None) -> bool:
    """An explicit argument wins; otherwise on unless KHRUSHCHEV_CALIBRATION is off/0/false/no."""
    if enabled is not None:
        return enabled
    return os.environ.get(ENV_SWITCH, "on").strip().lower() not in {"off", "0", "false", "no"}


def calibrator_status(rubric: Rubric, *, directory: str | Path | None = None, enabled: bool | None = None) -> CalibratorStatus:
    """The calibrator the engine would use for this rubric, or why it uses the rules alone.

    Cached per file state, so a retrained model is picked up without a restart.
    """
    if not calibration_enabled(enabled):
        return CalibratorStatus(rubric.id, None, f"calibration is turned off ({ENV_SWITCH}=off or enabled=False)")
    if directory is not None:
        status = _status_in(rubric, Path(directory), "")
    else:
        local_dir = instance_calibrators_dir()
        local_state = _stat(local_dir, rubric.id)
        local = _status_in(rubric, local_dir, "instance", local_state)
        if local.active:
            status = local
        else:
            status = _status_in(rubric, CALIBRATORS_DIR, "shipped")
            if local_state[0] is not None:  # a retrained model is there but refused: the shipped one (or the rules) decide
                status = replace(status, passed_over=local.reason)
                if (rubric.id, local.reason) not in _logged:
                    _logged.add((rubric.id, local.reason))
                    log.warning("calibration for %s: the retrained calibrator in %s is not used: %s; falling back to "
                                "the shipped one", rubric.id, local.folder, local.reason)
    if not status.active and (rubric.id, status.reason) not in _logged:
        _logged.add((rubric.id, status.reason))
        log.log(logging.WARNING if status.serious else logging.INFO,
                "calibration for %s: %s; the rules decide the level", rubric.id, status.reason)
    return status


def instance_calibrators_dir(instance: str | Path | None = None) -> Path:
    """The folder of calibrators retrained on this installation: `calibrators/` in the instance folder."""
    from ..config import instance_path

    return _calibrators_in(str(instance) if instance is not None else instance_path())


@lru_cache(maxsize=16)
def _calibrators_in(instance: str) -> Path:
    # (Asked at every score: a Path built and joined each time cost more than the files' stat.)
    return Path(instance) / INSTANCE_CALIBRATORS


def _status_in(rubric: Rubric, folder: Path, origin: str, state: tuple | None = None) -> CalibratorStatus:
    """The status of `folder`'s calibrator for the rubric, loaded again whenever its files change.

    One entry per folder and rubric, keyed by the files' (mtime, size): a model written by another
    process (a retraining in another worker) is read at this process's next score.
    """
    key = (str(folder), origin, rubric.id)
    state = (rubric.fingerprint(), *(_stat(folder, rubric.id) if state is None else state))
    cached = _cache.get(key)
    if cached is None or cached[0] != state:
        with _cache_lock:
            cached = _cache.get(key)
            if cached is None or cached[0] != state:
                cached = _cache[key] = (state, replace(_load(rubric, folder), origin=origin, folder=str(folder)))
    return cached[1]


def _stat(folder: Path, qid: str) -> tuple:
    """(mtime, size) of the question's sidecar and model file in `folder`, None for one missing:
    read afresh at every call (the files' paths are kept)."""
    out = []
    for path in _files_of(str(folder), qid):
        try:
            st = os.stat(path)
            out.append((st.st_mtime_ns, st.st_size))
        except OSError:
            out.append(None)
    return tuple(out)


@lru_cache(maxsize=64)
def _files_of(folder: str, qid: str) -> tuple[str, str]:
    return tuple(os.path.join(folder, f"{qid}{suffix}") for suffix in (".json", MODEL_SUFFIX))


def _load(rubric: Rubric, folder: Path) -> CalibratorStatus:
    """Check the sidecar, then the model file's hash, then read its numbers; refuse with a reason."""
    qid = rubric.id

    def refuse(reason: str, serious: bool = True) -> CalibratorStatus:
        return CalibratorStatus(qid, None, reason, serious)

    if not _QID.match(qid):
        return refuse(f"question id {qid!r} cannot name a calibrator file")
    side_path, model_path = folder / f"{qid}.json", folder / f"{qid}{MODEL_SUFFIX}"
    if not side_path.is_file():
        return refuse(f"no calibrator for {qid} in {folder} (train one with `make calibrate`)", serious=False)
    try:
        side = json.loads(side_path.read_text(encoding="utf-8"))
        if not isinstance(side, dict):
            raise ValueError("not an object")
    except (OSError, ValueError) as exc:
        return refuse(f"the sidecar {side_path.name} is not valid JSON ({exc})")
    if side.get("format") == 1:
        return refuse(f"{side.get('model_id', qid)} is a pickled calibrator ({qid}.joblib, sidecar format 1), which is "
                      "no longer loaded: retrain it (`make calibrate`, `train --from-db` or the Retrain button)")
    required = ("format", "question", "model_id", "sha256", "features_version", "features_schema_hash",
                "feature_names", "rubric_fingerprint", "apply")
    missing = [k for k in required if k not in side]
    if missing:
        return refuse(f"the sidecar {side_path.name} lacks {', '.join(missing)}")
    if side["format"] != SIDECAR_FORMAT or side["question"] != qid:
        return refuse(f"the sidecar {side_path.name} is for {side['question']!r}, format {side['format']}")
    if not model_path.is_file() or model_path.is_symlink():
        return refuse(f"{model_path.name} is missing (or a link) next to its sidecar")
    if _sha256(model_path) != side["sha256"]:
        return refuse(f"{model_path.name} does not match the sha256 in its sidecar: refusing to use it")
    if side["features_version"] != FEATURES_VERSION:
        return refuse(f"trained on features version {side['features_version']}, the engine computes {FEATURES_VERSION}")
    if side["features_schema_hash"] != FEATURES_SCHEMA_HASH:
        return refuse(f"trained on feature schema {side['features_schema_hash']}, the engine's is {FEATURES_SCHEMA_HASH}")
    if side["rubric_fingerprint"] != rubric.fingerprint():
        return refuse(f"trained for rubric {side['rubric_fingerprint']}, the rubric is now {rubric.fingerprint()} "
                      "(retrain with `make calibrate`)")
    names = side["feature_names"]
    if not isinstance(names, list) or "rule_mark" not in names:
        return refuse("the sidecar's feature names are unusable")
    if not side["apply"]:
        return refuse(f"{side['model_id']} did not beat the rules in cross-validation "
                      f"({side.get('apply_reason', 'see its sidecar')})", serious=False)
    try:
        est = LinearCalibrator.from_json(model_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # a file that hashes right but does not read is still refused
        return refuse(f"{model_path.name} could not be read ({type(exc).__name__}: {exc})")
    if list(est.feature_names) != names:
        return refuse(f"{model_path.name} is not the calibrator its sidecar describes")
    cal = Calibrator(side["model_id"], est, names, side)
    return CalibratorStatus(qid, cal, f"using {cal.model_id}")



LOCK_TIMEOUT = 30.0  # seconds a retraining waits for another one writing the same folder


@contextmanager
def calibrators_lock(out_dir: str | Path, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """One retraining at a time per calibrators folder, across threads and processes.

    Any folder but the package's shipped one is private, like the rest of the instance folder:
    created 0700, and every file in it left 0600 (the sidecars list reviewed submissions).
    """
    from filelock import FileLock, Timeout

    folder = Path(out_dir)
    private = not _is_shipped(folder)
    if private:
        private_folder(str(folder))
    else:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        lock = FileLock(folder / ".lock", timeout=timeout, mode=0o600 if private else 0o644)
        lock.acquire()
    except Timeout:
        raise TrainingError(["another retraining is writing the calibrators just now; try again in a minute"]) from None
    try:
        yield
    finally:
        try:
            if private:
                for f in folder.iterdir():
                    if f.is_file() and not f.is_symlink():
                        os.chmod(f, 0o600)
        finally:
            lock.release()


def _is_shipped(folder: Path) -> bool:
    try:
        return folder.resolve() == CALIBRATORS_DIR.resolve()
    except OSError:
        return False



__all__ = ["CALIBRATORS_DIR", "ENV_SWITCH", "INSTANCE_CALIBRATORS", "LOCK_TIMEOUT", "MODEL_SUFFIX", "RANDOM_STATE", "SIDECAR_FORMAT",
           "Calibrator", "CalibratorStatus", "calibration_enabled", "calibrator_status", "calibrators_lock",
           "instance_calibrators_dir", "save_calibrator"]
