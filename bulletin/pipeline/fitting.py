"""Fitting a bulletin to its post (`master.duration`, `--duration`): the slot's exact length.

A producer's order of preference: the gaps and pauses flex first (each 70% to 150% of its
written length, all by one gap factor), then the speech pace (one factor for every speech
segment, within the story's pace limit, +-6% unless it says otherwise), which the engines
speak at: nothing is stretched afterwards. Recorded clips and stings keep their length, beds
are backtimed (see mix.timeline), so the closing sting ends on the post.

1. Plan (before any audio): the pace comes from the estimate, on a grid of PACE_STEP so that a
   small edit keeps the same pace (and its takes): among the paces whose gaps would land
   inside the range with room for the estimate's error, one whose takes the cache holds most
   of (at least half: a story fitted before), then the one nearest the voices' own pace.
2. Make the takes at that pace and measure them: the gap factor that closes the remainder is
   solved exactly (the timeline is linear in it), to the sample.
3. Only where the gaps cannot absorb what the estimate missed, the pace is chosen again from
   the measured speech and the speech made again (once; a third pass without the grid), and
   the gaps close what is left.
A bulletin that cannot fit at the limits is DoesNotFit (one line: by how much, and about how
many words, by the bulletin's own words per second), or with best effort the nearest render.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bulletin.base.errors import BulletinError, InputError
from bulletin.mix.timeline import Timeline, arrange
from bulletin.script.story import Story, parse_duration

GAP_FACTOR_RANGE = (0.7, 1.5)
PACE_STEP = 0.005  # the pace grid: a one-word edit keeps its story's pace and takes
# the estimate's error, as a share of the speech: room left in the gaps. From the text's
# features (a voice timed roughly, before the pilot calibrates it); and where every voice is
# timed by its engine's own duration model (Kokoro: within 0.8% on stories never fitted on)
ESTIMATE_ERROR = 0.015
PREDICTED_ERROR = 0.01
MEASURED_ERROR = 0.004  # a second pass's (an engine's timing from one pace to another)
PASSES = 3
# a pace whose takes the cache holds at least this share of wins (a story fitted before, then edited)
CACHED_SHARE = 0.5
# the estimate misses by more than this share of the post at the limits: refused before audio
CLEARLY_OFF = 0.03
ROUGHLY_OFF = 0.1  # the same, by an estimate from the text's features not yet calibrated
# silence after the last sound that a fit may add where the gaps cannot close the rest (a
# bulletin with no gap at all, or too few to take up one step of the pace): less than a breath
TAIL_S = 0.5
BEST_EFFORT = ", or pass --duration-best-effort"  # how a render's refusal ends (a nightly job has no such flag)


@dataclass(frozen=True)
class Fit:
    """How a bulletin was fitted to its post, for the cue sheet."""

    target_s: float
    pace: float  # the speech's pace factor (1.0: the voices' own)
    gap_factor: float  # every gap and pause times this
    off_s: float = 0.0  # the render's length minus the target: 0 on the post
    passes: int = 1  # synthesis passes it took
    note: str = ""  # why the post was not met (best effort)
    tail_s: float = 0.0  # silence after the last sound, up to TAIL_S, where the gaps could not close it all

    def cue(self) -> dict[str, object]:
        entry: dict[str, object] = {"target": round(self.target_s, 6), "pace": round(self.pace, 4),
                                    "gap_factor": round(self.gap_factor, 4), "off_s": round(self.off_s, 3),
                                    "tail_s": round(self.tail_s, 3), "target_met": not self.note,
                                    "passes": self.passes}
        if self.note:
            entry["note"] = self.note + "; accepted (best effort)"
        return entry


class DoesNotFit(BulletinError):
    """The bulletin cannot reach its post within the gap and pace limits."""


@dataclass(frozen=True)
class Budget:
    """A bulletin's length as a function of its gap factor: `fixed_s + gap_factor * flex_s`,
    of which `speech_s` is speech (at the pace it was measured or estimated at)."""

    fixed_s: float
    flex_s: float
    speech_s: float

    @classmethod
    def of(cls, story: Story, durations: dict[int, float]) -> Budget:
        base = arrange(story, durations, gap_factor=0.0, fitted=True).duration_s
        whole = arrange(story, durations, gap_factor=1.0, fitted=True).duration_s
        speech = sum(durations[s.index] for s in story.segments if s.kind == "speech")
        return cls(base, whole - base, speech)

    def gap_factor(self, target_s: float) -> float:
        """The gap factor that makes the bulletin `target_s` long (may be out of range)."""
        if self.flex_s <= 0:
            return 1.0 if abs(target_s - self.fixed_s) < 1e-9 else (float("inf") if target_s > self.fixed_s else 0.0)
        return (target_s - self.fixed_s) / self.flex_s

    def length_s(self, gap_factor: float) -> float:
        return self.fixed_s + gap_factor * self.flex_s


def fixed_length(story: Story) -> set[int]:
    """The segments a fit never changes: stings and clips keep their recorded length."""
    return {s.index for s in story.segments if s.kind in ("sting", "clip")}


def pace_grid(limit: float) -> list[float]:
    """The paces a fit may choose: 1.0 and every PACE_STEP out to the limit."""
    steps = int(round(limit / PACE_STEP, 9))
    return [round(1.0 + k * PACE_STEP, 6) for k in range(-steps, steps + 1)]


def choose_pace(budget_at: Callable[[float], Budget], target_s: float, limit: float, error: float,
                cached: Callable[[float], float] = lambda pace: 0.0, grid: bool = True) -> float:
    """The pace to speak at, from `budget_at(pace)` (estimated or measured): of the grid's paces
    whose gap factor lands in range, one whose takes are mostly `cached` (a share, at least
    CACHED_SHARE: an edit keeps its story's pace; the few takes of a pilot do not), then one that leaves the gaps `error` of the speech to spare (the
    estimate's error), or the nearest to that, then the one nearest 1.0. None in range: the
    pace that puts the gaps at their written length, within the limit."""
    low, high = GAP_FACTOR_RANGE
    scored = []
    for pace in pace_grid(limit) if grid else []:
        budget = budget_at(pace)
        factor = budget.gap_factor(target_s)
        if not low <= factor <= high:
            continue
        room = min(error * budget.speech_s / budget.flex_s, (high - low) * 0.4)
        off_band = max(low + room - factor, factor - (high - room), 0.0)
        scored.append(((cached(pace) >= CACHED_SHARE, -round(off_band, 6), -abs(pace - 1.0)), pace))
    if scored:
        return max(scored)[1]
    return _solve_pace(budget_at, target_s - TAIL_S / 2, limit)  # a little short: a tail closes it


def _solve_pace(budget_at: Callable[[float], Budget], target_s: float, limit: float) -> float:
    """The pace (within the limit, not on the grid) whose budget has the gaps at 1.0, by
    bisection (the gap factor rises with the pace: faster speech leaves the gaps more)."""
    low, high = 1.0 - limit, 1.0 + limit
    if budget_at(high).gap_factor(target_s) <= 1.0:  # too long even at the fastest
        return high
    if budget_at(low).gap_factor(target_s) >= 1.0:  # too short even at the slowest
        return low
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (low, middle) if budget_at(middle).gap_factor(target_s) > 1.0 else (middle, high)
    return round((low + high) / 2, 6)


def scaled(story: Story, durations: dict[int, float], pace: float) -> Callable[[float], Budget]:
    """Budgets at other paces from durations measured at `pace`: speech scales with 1/pace."""
    speech = {s.index for s in story.segments if s.kind == "speech"}

    def at(other: float) -> Budget:
        return Budget.of(story, {i: d * pace / other if i in speech else d for i, d in durations.items()})
    return at


def closest(budget: Budget, target_s: float) -> tuple[float, float]:
    """The gap factor in range nearest the target's, and how far off (seconds) it leaves the length."""
    wanted = budget.gap_factor(target_s) if budget.flex_s > 0 else 1.0  # no gap: nothing to flex
    factor = min(max(wanted, GAP_FACTOR_RANGE[0]), GAP_FACTOR_RANGE[1])
    return factor, budget.length_s(factor) - target_s


def fitted_timeline(story: Story, durations: dict[int, float], fit: Fit,
                    words: dict[int, list[tuple[str, float, float]]] | None = None) -> Timeline:
    """The timeline at the fit's gap factor, its beds backtimed; exactly the target long when met.
    `words`: each segment's written words and their times (as `arrange` takes them)."""
    timeline = arrange(story, durations, words, gap_factor=fit.gap_factor, fitted=True)
    if fit.note or abs(timeline.duration_s + fit.tail_s - fit.target_s) > 1e-6:
        return timeline
    return Timeline(timeline.placements, timeline.beds, timeline.chapters, fit.target_s, fitted=True)


def words_per_second(story: Story, speech_s: float) -> float:
    """The bulletin's own pace in words: its speech's words over its speech's seconds."""
    words = sum(len((s.written or "").split()) for s in story.segments if s.kind == "speech")
    return words / speech_s if speech_s > 0 else 2.5


def miss(story: Story, durations: dict[int, float], budget: Budget, target_s: float, limit: float) -> str:
    """What to do about a bulletin that cannot fit, in one line: by how much at the pace limit,
    and about how many words to cut (naming the longest story) or to add."""
    _, off = closest(budget, target_s)
    post = f"the {clock(target_s)} post"
    count = max(1, round(abs(off) * words_per_second(story, budget.speech_s)))
    words = f"{count} word{'s' if count > 1 else ''}"
    if off > 0:
        lengths = {part.index: sum(durations.get(s.index, s.pause_s) for s in part.segments) for part in story.stories}
        longest = max(story.stories, key=lambda part: lengths[part.index])
        return (f"over by {off:.1f} s at the fastest allowed pace (+{limit * 100:g}%): cut about {words} "
                f"(story {longest.index}, \"{longest.headline}\", is the longest) to fit {post}")
    return (f"under by {-off:.1f} s at the slowest allowed pace (-{limit * 100:g}%): add about {words} "
            f"or a pause to fill {post}")


def post_seconds(duration: str | float | None) -> float | None:
    """`--duration` in seconds, or None; InputError where it is not a length."""
    if duration is None:
        return None
    try:
        return parse_duration(str(duration))
    except ValueError as why:
        raise InputError(f"--duration: {why}") from None


def clock(seconds: float) -> str:
    """M:SS.s, as a producer writes a length."""
    minutes, rest = divmod(round(seconds, 1), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def fit_to_post(story: Story, sounds: dict[int, float], estimate_at: Callable[[float], dict[int, float]],
                speak_at: Callable[[float, set[int] | None], dict[int, float]], target_s: float, limit: float, *,
                voice_of: dict[int, str], cached: Callable[[float], float] = lambda pace: 0.0,
                best_effort: bool = False, error: float = ESTIMATE_ERROR) -> tuple[Fit, dict[int, float]]:
    """Fit the bulletin to `target_s`: the pace from the estimate (`estimate_at(pace)`: speech
    seconds by segment), the takes made by `speak_at(pace, segments or None for all)` (their
    seconds by segment; the caller keeps the takes of the last call), the gaps closing the
    rest. `sounds` are the stings' and clips' seconds. `voice_of` names the preset of each
    speech segment whose estimate is the text's features alone: unless the cache holds every
    take at the chosen pace, one segment of each such voice is made first and the estimate
    calibrated on it (a voice's own pace, which that estimate knows only roughly; a voice
    timed by its engine's own duration model needs none). Returns the fit and every segment's
    measured seconds; DoesNotFit (before any audio where the estimate is clearly out) unless
    `best_effort`. `error`: how far the estimate may be off (a share of the speech)."""
    # a rough estimate may be a few percent off until calibrated: before, only a post far out is refused
    pace = planned_pace(story, sounds, estimate_at, target_s, limit, cached=cached, best_effort=best_effort,
                        error=error, clearly_off=ROUGHLY_OFF if voice_of else CLEARLY_OFF)
    if voice_of and cached(pace) < 1.0:  # every take cached: measured at once, as they are
        estimate_at = calibrated(estimate_at, speak_at(pace, pilot_segments(story, voice_of)), pace, voice_of)
        pace = planned_pace(story, sounds, estimate_at, target_s, limit, cached=cached, best_effort=best_effort,
                            error=error)
    return close_to_post(story, sounds, speak_at, pace, target_s, limit, best_effort=best_effort)


def planned_pace(story: Story, sounds: dict[int, float], estimate_at: Callable[[float], dict[int, float]],
                 target_s: float, limit: float, *, cached: Callable[[float], float] = lambda pace: 0.0,
                 best_effort: bool = False, hint: str = BEST_EFFORT, error: float = ESTIMATE_ERROR,
                 clearly_off: float = CLEARLY_OFF) -> float:
    """The pace to make the takes at, from the estimate alone (step 1); DoesNotFit, before any
    audio, where the estimate is clearly too long even at the fastest pace or too short at the
    slowest (unless `best_effort`), its line ending in `hint`."""
    def estimated(pace: float) -> Budget:
        return Budget.of(story, sounds | estimate_at(pace))

    fastest, slowest = closest(estimated(1.0 + limit), target_s)[1], closest(estimated(1.0 - limit), target_s)[1]
    edge = 1.0 + limit if fastest > 0 else 1.0 - limit
    if not best_effort and (fastest > clearly_off * target_s or slowest < -clearly_off * target_s):
        durations = sounds | estimate_at(edge)
        raise DoesNotFit(f"{story.path}: {miss(story, durations, Budget.of(story, durations), target_s, limit)}{hint}")
    return choose_pace(estimated, target_s, limit, error, cached)


def close_to_post(story: Story, sounds: dict[int, float], speak_at: Callable[[float, set[int] | None], dict[int, float]],
                  pace: float, target_s: float, limit: float, *, best_effort: bool = False,
                  hint: str = BEST_EFFORT) -> tuple[Fit, dict[int, float]]:
    """Steps 2 and 3: the takes made at `pace` (`speak_at`), the gap factor that closes the
    rest, or, where the gaps cannot, the pace chosen again from the measured speech (at most
    PASSES passes in all)."""
    low, high = GAP_FACTOR_RANGE
    for attempt in range(1, PASSES + 1):
        durations = sounds | speak_at(pace, None)
        budget = Budget.of(story, durations)
        factor = budget.gap_factor(target_s)
        if low <= factor <= high:
            return Fit(target_s, pace, factor, 0.0, attempt), durations
        again = choose_pace(scaled(story, durations, pace), target_s, limit, MEASURED_ERROR, grid=attempt == 1)
        factor, off = closest(budget, target_s)
        last = attempt == PASSES or again == pace
        # a silent tail closes a little shortfall where nothing flexes, or no other pass is left
        if -TAIL_S <= off <= 0 and (last or budget.flex_s <= 0):
            return Fit(target_s, pace, factor, 0.0, attempt, tail_s=-off), durations
        if last:
            break
        pace = again
    note = miss(story, durations, budget, target_s, limit)
    if not best_effort:
        raise DoesNotFit(f"{story.path}: {note}{hint}")
    factor, off = closest(budget, target_s)
    return Fit(target_s, pace, factor, off, attempt, note), durations


PILOT_CHARS = 150  # per voice, the segment nearest this long calibrates the estimate


def pilot_segments(story: Story, voice_of: dict[int, str]) -> set[int]:
    """One speech segment per voice, the one nearest PILOT_CHARS long: made first, to measure
    how fast each voice really speaks."""
    by_voice: dict[str, list[tuple[int, int]]] = {}
    for s in story.segments:
        if s.kind == "speech" and s.index in voice_of:
            by_voice.setdefault(voice_of[s.index], []).append((abs(len(s.text or "") - PILOT_CHARS), s.index))
    return {min(segments)[1] for segments in by_voice.values()}


def calibrated(estimate_at: Callable[[float], dict[int, float]], measured: dict[int, float], pace: float,
               voice_of: dict[int, str]) -> Callable[[float], dict[int, float]]:
    """The estimate with each voice's seconds scaled by what its `measured` segments (made at
    `pace`) took against their estimate; a voice not measured keeps the estimate."""
    guessed = estimate_at(pace)
    ratios: dict[str, float] = {}
    for voice in set(voice_of.values()):
        said = [i for i in measured if voice_of.get(i) == voice]
        expected = sum(guessed[i] for i in said)
        if expected > 0:
            ratios[voice] = sum(measured[i] for i in said) / expected
    return lambda other: {i: d * ratios.get(voice_of.get(i, ""), 1.0) for i, d in estimate_at(other).items()}


@dataclass(frozen=True)
class Backtime:
    """The estimate against the post, as `check` prints it and the studio shows it."""

    post_s: float
    estimated_s: float  # at the voices' own pace, gaps as written
    pace: float  # the pace a render would start from
    gap_factor: float
    fits: bool
    advice: str = ""  # what to do when it does not fit
    tail_s: float = 0.0  # silence at the end where the gaps cannot close it all (see TAIL_S)

    @property
    def over_s(self) -> float:
        return self.estimated_s - self.post_s

    def line(self) -> str:
        head = f"{clock(self.estimated_s)} estimated for a {clock(self.post_s)} post"
        if round(self.over_s, 1) == 0:
            head += ": on the post"
        else:
            head += f": {'over' if self.over_s > 0 else 'under'} by {abs(self.over_s):.1f} s"
        if not self.fits:
            return f"{head}; does not fit: {self.advice}"
        tail = f", {self.tail_s:.1f} s of silence at the end" if self.tail_s else ""
        if self.pace == 1.0:
            return f"{head}, fits by the gaps alone (x{self.gap_factor:.2f}{tail})"
        return f"{head}, fits at pace {(self.pace - 1) * 100:+.1f}% (gaps x{self.gap_factor:.2f}{tail})"

    def as_json(self) -> dict[str, object]:
        return {"post": round(self.post_s, 3), "estimated": round(self.estimated_s, 3),
                "over": round(self.over_s, 3), "pace": round(self.pace, 4), "gap_factor": round(self.gap_factor, 4),
                "tail": round(self.tail_s, 3), "fits": self.fits, "line": self.line()}


def backtime(story: Story, sounds: dict[int, float], estimate_at: Callable[[float], dict[int, float]],
             post_s: float, limit: float, error: float = ESTIMATE_ERROR) -> Backtime:
    """The estimate against the post: how far off at the voices' own pace, and the pace and gap
    factor a render would start from (or what to do where it cannot fit)."""
    natural = Budget.of(story, sounds | estimate_at(1.0)).length_s(1.0)
    pace = planned_pace(story, sounds, estimate_at, post_s, limit, best_effort=True, error=error)  # as a render starts
    budget = Budget.of(story, sounds | estimate_at(pace))
    factor, off = closest(budget, post_s)
    if off > 0.05 or off < -TAIL_S:  # a little short is closed by a silent tail
        durations = sounds | estimate_at(pace)
        return Backtime(post_s, natural, pace, factor, False, miss(story, durations, budget, post_s, limit))
    wanted = budget.gap_factor(post_s)
    if GAP_FACTOR_RANGE[0] <= wanted <= GAP_FACTOR_RANGE[1]:
        return Backtime(post_s, natural, pace, wanted, True)
    return Backtime(post_s, natural, pace, factor, True, tail_s=max(-off, 0.0))
