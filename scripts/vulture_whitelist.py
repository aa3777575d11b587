"""Names vulture cannot see used (scripts/test.sh runs `vulture bulletin scripts/vulture_whitelist.py`).

Each is used by something outside the code vulture reads: the interpreter, a library, or the CLI's
dispatch by name. Anything else vulture reports is dead code: delete it. Never executed.
"""

# ruff: noqa
__getattr__  # bulletin/__init__.py: module attribute hooks (PEP 562), called by Python
__dir__
_cmd_build  # bulletin/__main__.py: dispatched by name, globals()[f"_cmd_{args.command}"]
_cmd_cache
_cmd_check
_cmd_import
_cmd_preview
_cmd_render
_cmd_schedule
_cmd_schema
_cmd_studio
_cmd_voices
STAGES  # pipeline/progress.py: the documented stage names of progress events
Store  # sound/cache.py: the typing Protocol that the folder and fsspec stores meet
cached_sentence  # sound/sentences.py: the cluster API, one sentence through the cache
_.intra_op_num_threads  # onnxruntime.SessionOptions, read by onnxruntime
_.inter_op_num_threads
_.capture_signals  # uvicorn.Server's hook, overridden by the studio server
_.preserve_quotes  # ruamel.yaml's setting, read by ruamel.yaml
tb  # __exit__(self, exc_type, exc, tb): the context manager protocol's signature
exc
change  # watchfiles' watch_filter(change, path) signature
