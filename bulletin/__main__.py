"""Commands only: parse arguments, call one library function, print. Library errors become
one line per problem and an exit status here, never a traceback.

SIGINT and SIGTERM end a command with one line and exit status 130 / 143 from the first
instant (bulletin.interrupt: the handlers are set before anything heavy is imported), and
while files are made `_stoppable` unwinds the command instead, so that those are removed."""

from __future__ import annotations

from bulletin.interrupt import NOTHING_WRITTEN, EndAtOnce, end_at_once_from_now, stopped_by

end_at_once_from_now(__name__ == "__main__")  # run as __main__ by a program (runpy), not by -m

import argparse  # noqa: E402 (the imports after the handlers)
import contextlib  # noqa: E402
import datetime  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

from bulletin.base.errors import BulletinError, InputError  # noqa: E402

# One BLAS thread: the master's matrix products are small, and with a thread per core (the
# default) they ran 5-10x slower on a busy 2-core machine, where the MP3 encoder holds a core.
# Set before anything imports numpy; the environment still wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

EXAMPLES = {
    "render": "bulletin render examples/gsomia/story.yaml -o output/",
    "preview": "bulletin preview examples/gsomia/story.yaml 2 signoff --play",
    "check": "bulletin check examples/gsomia/story.yaml",
    "voices": "bulletin voices --say 'Good morning, this is the news.' anchor-us",
    "import": "bulletin import transcript.txt -o story.yaml",
    "schema": "bulletin schema > story.schema.json",
    "build": "bulletin build jobs.yaml morning evening --date 2026-11-27 --scheduler tcp://10.0.0.5:8786",
    "schedule": "bulletin schedule jobs.yaml --list",
    "cache": "bulletin cache clear",
    "studio": "bulletin studio examples/gsomia/story.yaml",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's usage errors are exit status 2 too, one line
        raise InputError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _at_least_one(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is less than 1")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bulletin", description="Turn a written news script into a finished radio bulletin.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text,
                                   epilog=f"example: {EXAMPLES[name]}")

    render = command("render", "render the whole bulletin: WAV, MP3, cue sheet and captions")
    render.add_argument("story", type=Path)
    render.add_argument("-o", "--output", type=Path, default=Path("output"), help="folder (default: output/)")
    render.add_argument("--format", help="comma-separated: wav,mp3 (default: the story's master.formats)")
    render.add_argument("--loudness", help="podcast (-16 LUFS), broadcast (-23) or a LUFS number")
    render.add_argument("--loudness-best-effort", action="store_true",
                        help="where the loudness is out of reach for this material, master as loud as it goes (exit 0)")
    _duration(render)
    render.add_argument("--duration-best-effort", action="store_true",
                        help="where the bulletin cannot fit --duration, render the nearest it can (exit 0, a warning)")
    _common(render)
    _draft(render)

    preview = command("preview", "render only some segments, back to back, to one WAV")
    preview.add_argument("story", type=Path)
    preview.add_argument("segments", nargs="+", metavar="SEGMENT", help="segment number or id")
    preview.add_argument("-o", "--output", type=Path, help=".wav or .mp3 file (default: output/preview.wav)")
    preview.add_argument("--play", action="store_true", help="play it with the machine's audio player")
    _common(preview)
    _draft(preview)

    check = command("check", "validate a story and show its cast, segments and timings, without audio")
    check.add_argument("story", type=Path)
    check.add_argument("--assets", type=Path, action="append", default=[], metavar="DIR")
    _duration(check)
    _draft(check)

    voices = command("voices", "list voice presets and engine voices; --say renders an audition")
    voices.add_argument("preset", nargs="?")
    voices.add_argument("--say", metavar="TEXT")
    voices.add_argument("--json", action="store_true", help="the presets and engines as JSON, for programs")
    voices.add_argument("-o", "--output", type=Path, help="audition WAV (default: output/voice-PRESET.wav)")

    imp = command("import", "turn a broadcast transcript into a story file")
    imp.add_argument("transcript", type=Path)
    imp.add_argument("-o", "--output", type=Path, help="story file (default: print it)")

    command("schema", "print the JSON Schema of the story format")

    build = command("build", "run nightly jobs once, now (for cron or a systemd timer), here or on a Dask cluster")
    build.add_argument("jobs_file", type=Path)
    build.add_argument("jobs", nargs="*", metavar="JOB", help="the jobs to build (or --all)")
    build.add_argument("--all", action="store_true", help="build every job in the jobs file")
    build.add_argument("--date", type=datetime.date.fromisoformat, help="build date YYYY-MM-DD (default: today in the jobs' zone)")
    _cluster(build)

    schedule = command("schedule", "run jobs at their times until stopped; --list shows next runs")
    schedule.add_argument("jobs_file", type=Path)
    schedule.add_argument("--list", action="store_true", help="print each job's next run times and exit")
    schedule.add_argument("--count", type=_at_least_one, default=5, metavar="N", help="run times per job for --list (default 5)")
    _cluster(schedule)

    studio = command("studio", "edit, listen to and render the story in a local browser page")
    studio.add_argument("story", type=Path)
    studio.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    studio.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    studio.add_argument("--no-browser", action="store_true", help="print the URL, do not open a browser")
    studio.add_argument("-o", "--output", type=Path, default=Path("output"), help="render folder (default: output/)")
    studio.add_argument("--assets", type=Path, action="append", default=[], metavar="DIR",
                        help="another folder audio files may come from")
    _draft(studio)

    cache = command("cache", "manage the take cache")
    cache.add_argument("action", choices=["clear"])
    return parser


def _draft(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--draft", action="store_true",
                        help="cast every member with espeak-ng voices: fast, for checking timings")


def _duration(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", metavar="LENGTH",
                        help="fit the bulletin to exactly this length: seconds or M:SS (default: the story's master.duration)")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=_at_least_one, metavar="N", help="synthesis processes (default: all cores)")
    parser.add_argument("--no-cache", action="store_true", help="synthesize every take afresh")
    parser.add_argument("--assets", type=Path, action="append", default=[], metavar="DIR",
                        help="another folder audio files may come from")


def _cluster(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scheduler", metavar="ADDRESS", default=os.environ.get("BULLETIN_SCHEDULER") or None,
                        help="build on the Dask cluster of this scheduler, e.g. tcp://10.0.0.5:8786 "
                             "(default: $BULLETIN_SCHEDULER; unset: build here)")
    parser.add_argument("--cache", metavar="URL", default=os.environ.get("BULLETIN_CACHE") or None,
                        help="the take cache: a folder or an fsspec URL (s3://...) every worker reaches "
                             "(default: $BULLETIN_CACHE; unset: each machine's own)")


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = globals()[f"_cmd_{args.command}"]
        return handler(args)
    except BulletinError as error:
        for line in error.lines():
            print(f"error: {line}" if not isinstance(error, InputError) or not error.problems else line, file=sys.stderr)
        return error.exit_status
    except _Stopped as stop:
        print(f"error: {stopped_by(stop.signum)}{NOTHING_WRITTEN}", file=sys.stderr)
        return 128 + stop.signum
    except KeyboardInterrupt:
        print(f"error: {stopped_by(signal.SIGINT)}{NOTHING_WRITTEN}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `bulletin check story.yaml | head`: the reader left, not an error
        sys.stderr.close()
        return 0
    except OSError as error:  # the disk, a folder, a device: one line naming the path
        print(f"error: {_describe_os_error(error)}", file=sys.stderr)
        return 1


def _describe_os_error(error: OSError) -> str:
    cause = error.strerror or str(error)
    if error.filename is None:
        return cause
    paths = " -> ".join(repr(str(p)) for p in (error.filename, error.filename2) if p is not None)
    return f"{paths}: {cause}"


class _Stopped(BaseException):
    """SIGTERM (or a second SIGINT) arrived: unwind, so every staged file is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stoppable() -> Iterator[None]:
    """While audio is made: SIGINT or SIGTERM unwinds the render (KeyboardInterrupt or
    _Stopped), so staged files are removed and the worker processes stopped (they leave the
    signals to this process); signals during the unwinding are ignored so it can finish."""

    def stop(signum: int, frame: object) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt if signum == signal.SIGINT else _Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    done = False
    try:
        yield
        done = True
    finally:
        for sig, handler in previous.items():
            # the files are made: from here a signal ends the command without undoing them
            signal.signal(sig, EndAtOnce("") if done and isinstance(handler, EndAtOnce) else handler)


def _cmd_render(args: argparse.Namespace) -> int:
    from bulletin.pipeline.progress import RenderProgress
    from bulletin.pipeline.render import render

    formats = [f.strip() for f in args.format.split(",")] if args.format else None
    for f in formats or []:
        if f not in ("wav", "mp3"):
            raise InputError(f"--format: {f!r} is not one of wav, mp3")
    with _stoppable(), RenderProgress() as progress:
        result = render(args.story, args.output, formats=formats, loudness=args.loudness,
                        loudness_best_effort=args.loudness_best_effort, duration=args.duration,
                        duration_best_effort=args.duration_best_effort, jobs=args.jobs,
                        use_cache=not args.no_cache, assets=args.assets, draft=args.draft,
                        on_progress=progress.update, on_warning=_warn)
    for path in result.files.values():
        print(path)
    minutes, seconds = divmod(result.duration_s, 60)
    print(f"{int(minutes)}:{seconds:05.2f}, {result.integrated_lufs:.1f} LUFS integrated, "
          f"{result.true_peak_dbtp:.1f} dBTP true peak")
    if note := result.cue["loudness"].get("note"):
        print(f"warning: {note}", file=sys.stderr)
    return 0


def _cmd_preview(args: argparse.Namespace) -> int:
    from bulletin.pipeline.progress import RenderProgress
    from bulletin.pipeline.render import preview

    out = args.output or Path("output") / "preview.wav"
    with _stoppable(), RenderProgress() as progress:
        path = preview(args.story, args.segments, out, assets=tuple(args.assets), use_cache=not args.no_cache,
                       jobs=args.jobs, draft=args.draft, on_progress=progress.update, on_warning=_warn)
    print(path)
    if args.play:
        from bulletin.pipeline.playback import play

        play(path)
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from bulletin.pipeline.checking import check_report

    report, ok = check_report(args.story, tuple(args.assets), draft=args.draft, duration=args.duration)
    print(report)
    return 0 if ok else 2


def _warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr)


def _cmd_voices(args: argparse.Namespace) -> int:
    from bulletin.pipeline import voices

    if args.say is not None:
        with _stoppable():
            print(voices.audition(args.preset, args.say, args.output))
    elif args.json:
        import json

        print(json.dumps(voices.voices_listing(args.preset), indent=2))
    else:
        print(voices.voices_report(args.preset))
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from bulletin.export.single import write_file
    from bulletin.script.transcript import import_transcript

    result = import_transcript(args.transcript)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(result.story_yaml)
        return 0
    out: Path = args.output
    with _stoppable():
        written = write_file(out, lambda: result.story_yaml.encode(), "yaml")
    print(written)
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    import json

    from bulletin.script.schema import story_schema

    print(json.dumps(story_schema(), indent=2))
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from bulletin.nightly.build import run_build

    return run_build(args.jobs_file, args.jobs, args.date, all_jobs=args.all, scheduler=args.scheduler,
                     cache=args.cache)


def _cmd_schedule(args: argparse.Namespace) -> int:
    from bulletin.nightly.schedule import run_schedule

    return run_schedule(args.jobs_file, list_only=args.list, count=args.count, scheduler=args.scheduler,
                        cache=args.cache)


def _cmd_studio(args: argparse.Namespace) -> int:
    from bulletin.studio.server import serve

    return serve(args.story, host=args.host, port=args.port, open_browser=not args.no_browser,
                 assets=tuple(args.assets), out_dir=args.output, draft=args.draft)


def _cmd_cache(args: argparse.Namespace) -> int:
    from bulletin.sound.cache import open_cache

    cache = open_cache()
    print(f"removed {cache.clear()} takes from {cache.location}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
