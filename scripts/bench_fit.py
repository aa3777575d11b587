"""Fitting to a post (issue 25) for scripts/bench.py: `--fit` (a fitted cold render and a
one-word edit against an unfitted cold render) and `--estimate` (`check`'s estimate against
unfitted renders of five stories)."""

from __future__ import annotations

from pathlib import Path

from scripts.bench import (
    ROOT,
    cue_of,
    longest_reporter_segment,
    neural_plan,
    one_word_edited,
    render_cmd,
    run,
    story_yaml,
    verdict,
)

ESTIMATE_STORIES = [ROOT / "examples" / "gsomia" / "story.yaml", ROOT / "examples" / "harbour" / "story.yaml",
                    *sorted((ROOT / "scripts" / "stories").glob("*.yaml"))]


def estimate_accuracy(work: Path, jobs: int, stories: list[Path]) -> list[tuple[str, float, float]]:
    """(name, estimated s, rendered s) of each story cast neural: `check`'s estimate against the
    length of its cold, unfitted render."""
    from bulletin.pipeline.checking import check

    rows = []
    for path in stories:
        p = neural_plan(path.resolve())
        pinned = work / "estimate" / f"{path.parent.name}-{path.stem}" / "story.yaml"
        pinned.parent.mkdir(parents=True)
        pinned.write_text(story_yaml(p.story, p.cast))
        estimated = check(pinned).timeline.duration_s
        out = work / "estimate-out" / f"{path.parent.name}-{path.stem}"
        run(render_cmd(pinned, out, jobs), work / "estimate-cache")
        rows.append((f"{path.parent.name}/{path.name}", estimated, cue_of(out)["duration"]))
        print(f"  {rows[-1][0]}: estimated {estimated:.1f} s, rendered {rows[-1][2]:.1f} s", flush=True)
    return rows


def fitting(story: Path, work: Path, jobs: int) -> dict:
    """Cold render unfitted; cold render fitted to 3% under its natural length (an empty
    cache); one word edited in the fitted story, rendered again to the same post."""
    from bulletin.pipeline.checking import check

    estimated = check(story).timeline.duration_s
    out = work / "natural"
    cold_s, _ = run(render_cmd(story, out, jobs), work / "natural-cache")
    natural = cue_of(out)["duration"]
    post = f"{natural * 0.97:.2f}"
    out = work / "fitted"
    fitted_s, _ = run([*render_cmd(story, out, jobs), "--duration", post], work / "fitted-cache")
    fit = cue_of(out)
    p = neural_plan(story)
    segment = next(s for s in p.story.segments if s.index == longest_reporter_segment(p.story))
    original = story.read_text()
    story.write_text(one_word_edited(original, segment.text or ""))
    edit_s, _ = run([*render_cmd(story, work / "fitted-edit", jobs), "--duration", post], work / "fitted-cache")
    edited = cue_of(work / "fitted-edit")
    story.write_text(original)
    return {"estimated": estimated, "natural": natural, "cold_s": cold_s, "post": float(post), "fitted_s": fitted_s,
            "fit": fit["fit"], "duration": fit["duration"], "edit_s": edit_s, "edit_fit": edited["fit"]}


def report_fitting(r: dict) -> None:
    print(f"\nfitting the example to {r['post']:.2f} s (3% under its natural {r['natural']:.2f} s; "
          f"estimated {r['estimated']:.2f} s, {100 * (r['estimated'] / r['natural'] - 1):+.1f}%)")
    print(f"  fit: pace {r['fit']['pace']}, gaps x{r['fit']['gap_factor']}, {r['fit']['passes']} pass(es), "
          f"rendered {r['duration']:.3f} s")
    ratio = r["fitted_s"] / r["cold_s"]
    print(f"cold render unfitted             {r['cold_s']:8.2f} s")
    print(f"cold render fitted               {r['fitted_s']:8.2f} s  fitted / cold = {ratio:.3f} "
          f"{verdict(ratio, 'fitted / cold')}")
    ratio = r["edit_s"] / r["fitted_s"]
    print(f"one word edited, fitted again    {r['edit_s']:8.2f} s  edit / fitted cold = {ratio:.3f} "
          f"{verdict(ratio, 'fitted edit / cold')} (pace {r['edit_fit']['pace']}, "
          f"{r['edit_fit']['passes']} pass(es))")


def report_estimates(rows: list[tuple[str, float, float]]) -> None:
    print(f"\n{'estimate against the render (unfitted)':<42}{'est. s':>8}{'render s':>10}{'error':>8}")
    for name, estimated, rendered in rows:
        print(f"{name:<42}{estimated:8.1f}{rendered:10.1f}{100 * (estimated / rendered - 1):+7.1f}%")
    worst = max(abs(e / r - 1) for _, e, r in rows)
    print(f"worst estimate error {100 * worst:.1f}% {verdict(worst, 'estimate error')}")
