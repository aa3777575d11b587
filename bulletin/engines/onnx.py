"""onnxruntime sessions for the neural engines: the thread rule they share."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

from bulletin.base.errors import BulletinError


def intra_op_threads() -> int:
    """onnxruntime's intra-op threads: BULLETIN_THREADS, else 1 inside a worker process (the
    render runs one worker per core), else 0, onnxruntime's default of one per physical core."""
    configured = os.environ.get("BULLETIN_THREADS", "").strip()
    if configured:
        try:
            return max(1, int(configured))
        except ValueError:
            raise BulletinError(f"BULLETIN_THREADS must be a whole number, not {configured!r}") from None
    return 1 if multiprocessing.parent_process() is not None else 0


class Session:
    """An onnxruntime session whose every run gives the CPU arena's unused memory back when it
    ends. A model's working memory follows the length of what it says; without this a worker
    keeps, for good, the most that any sentence needed (the arena grows in powers of two), and
    each engine's arena on top of the other's: measured in one worker of a 15-minute bulletin,
    the worker peaked at 1.81 GB without this and at 1.16 GB with it."""

    def __init__(self, session: Any) -> None:
        import onnxruntime

        self._session = session
        self._options = onnxruntime.RunOptions()
        self._options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def run(self, output_names: list[str] | None, feed: dict[str, Any]) -> list[Any]:
        return self._session.run(output_names, feed, self._options)


def session(model: Path | bytes, engine: str) -> Session:
    """An onnxruntime CPU session for `model` (a file or its bytes) with the project's thread
    settings: intra_op_threads(), one inter-op thread (the graphs are one chain), no spinning
    (with it, two-thread runs were at times twice as slow); its runs give memory back."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = intra_op_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    source = model if isinstance(model, bytes) else str(model)
    try:
        return Session(onnxruntime.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"]))
    except Exception as error:  # onnxruntime's own exception types
        where = "its model" if isinstance(model, bytes) else str(model)
        raise BulletinError(f"{engine} cannot load {where}: {error}") from error


def with_outputs(model: Path | bytes, tensors: list[str]) -> bytes:
    """`model` (a file or its bytes) with inner `tensors` made outputs of its graph too, as
    bytes for `session`: what a model computes on the way (Kokoro's and Piper's phoneme
    durations) is then returned beside what it was exported to return, at no extra cost."""
    import onnx

    proto = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(str(model))
    present = {output.name for output in proto.graph.output}
    for name in tensors:
        if name not in present:
            output = onnx.ValueInfoProto()
            output.name = name
            proto.graph.output.append(output)
    return proto.SerializeToString()
