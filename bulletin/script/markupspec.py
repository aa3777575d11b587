"""What each element of the speech markup takes (SSML 1.1's names), the checks on its
attributes and nesting, and the values they mean: a break's seconds, a prosody's pace.

Each check raises MarkupError (bulletin.script.markup) at the offset of the tag, with the fix
where one is obvious.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bulletin.script.ipa import ipa_problem
from bulletin.script.markuptree import Element, MarkupError
from bulletin.script.sayas import say_as
from bulletin.script.yamlnodes import suggest

MAX_BREAK_S = 10.0
# SSML leaves the strengths' lengths to the processor: these follow a newsreader's pauses
BREAK_STRENGTHS = {"none": 0.0, "x-weak": 0.1, "weak": 0.2, "medium": 0.4, "strong": 0.7, "x-strong": 1.0}
# prosody rate keywords as a factor of the voice's pace
RATES = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "default": 1.0, "fast": 1.2, "x-fast": 1.4}
RATE_RANGE = (0.5, 2.0)
EMPHASIS_LEVELS = ("strong", "moderate", "none", "reduced")
SAY_AS = ("characters", "spell-out", "cardinal", "ordinal", "digits", "telephone", "date")
# what producers write for them
_SAY_AS_MEANT = {"letters": "characters", "spell": "characters", "acronym": "characters", "number": "cardinal",
                 "numbers": "cardinal", "phone": "telephone", "tel": "telephone", "digit": "digits"}
DATE_FORMATS = ("ymd", "dmy", "mdy", "ym", "my", "md", "dm", "y")
ALPHABETS = ("ipa",)

_TIME = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|s)")
_PERCENT = re.compile(r"([+-]?)(\d+(?:\.\d+)?)%")


@dataclass(frozen=True)
class Spec:
    attributes: tuple[str, ...]
    required: tuple[str, ...] = ()
    empty: bool = False  # takes no content
    text_only: bool = False  # takes text, no elements


ELEMENTS: dict[str, Spec] = {
    "break": Spec(("time", "strength"), empty=True),
    "say-as": Spec(("interpret-as", "format"), ("interpret-as",), text_only=True),
    "sub": Spec(("alias",), ("alias",), text_only=True),
    "phoneme": Spec(("alphabet", "ph"), ("ph",), text_only=True),
    "emphasis": Spec(("level",)),
    "prosody": Spec(("rate",), ("rate",)),
}
# SSML elements the format does not take, and what to do instead
_OTHERS = {
    "speak": "leave out <speak>: the segment's text is the speech",
    "voice": "give the segment a voice: instead (or another speaker)",
    "audio": "use a clip: segment for a recording",
    "p": "write paragraphs as separate segments", "s": "sentences are found by their full stops",
    "mark": "marks are not taken", "lang": "give the segment a voice of that language",
}


def _error(offset: int, message: str) -> Exception:
    return MarkupError(offset, message)


def check_element(name: str, attributes: tuple[tuple[str, str], ...], offset: int, parent: str | None) -> None:
    """Refuse an unknown element, an unknown or missing attribute, or a bad value."""
    spec = ELEMENTS.get(name)
    if spec is None:
        known = ", ".join(f"<{n}>" for n in ELEMENTS)
        hint = _OTHERS.get(name.lower()) or (suggest(name, list(ELEMENTS)).removeprefix("; ") or f"known: {known}")
        raise _error(offset, f"<{name}> is not a voice direction here; {hint}")
    values = dict(attributes)
    for key in values:
        if key not in spec.attributes:
            hint = suggest(key, spec.attributes) or f"; it takes {', '.join(spec.attributes)}"
            if name == "prosody" and key in ("pitch", "volume", "contour", "range", "duration"):
                hint = "; only rate is taken (the voice's pitch and level are its preset's)"
            raise _error(offset, f"<{name}> has no attribute {key!r}" + hint)
    for key in spec.required:
        if key not in values:
            raise _error(offset, f"<{name}> needs {key}=\"...\"" + _example(name))
    _VALUES[name](values, offset)


def _example(name: str) -> str:
    return {
        "say-as": ': <say-as interpret-as="characters">KBS</say-as>',
        "sub": ': <sub alias="jee-so-mee-ah">GSOMIA</sub>',
        "phoneme": ': <phoneme alphabet="ipa" ph="kim">Kim</phoneme>',
        "prosody": ': <prosody rate="85%">...</prosody>',
    }.get(name, "")


def _break(values: dict[str, str], offset: int) -> None:
    if "time" in values:
        break_seconds(values["time"], offset)
    strength = values.get("strength")
    if strength is not None and strength not in BREAK_STRENGTHS:
        raise _error(offset, f"<break strength={strength!r}> is not one of {', '.join(BREAK_STRENGTHS)}"
                     + suggest(strength, list(BREAK_STRENGTHS)))


def break_seconds(time: str, offset: int = 0) -> float:
    """A break's `time` ("500ms", "1.2s") in seconds; MarkupError unless 0 to MAX_BREAK_S."""
    match = _TIME.fullmatch(time.strip())
    if match is None:
        number = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(m?s|sec|seconds?|milliseconds?)?\s*", time)
        hint = ""
        if number:
            unit = "ms" if (number.group(2) or "").startswith("m") or (not number.group(2) and float(number.group(1)) > 10) else "s"
            hint = f'; did you mean <break time="{number.group(1)}{unit}"/>?'
        raise _error(offset, f"<break time={time!r}> must be a time such as 500ms or 1.2s" + hint)
    seconds = float(match.group(1)) / (1000.0 if match.group(2) == "ms" else 1.0)
    if seconds > MAX_BREAK_S:
        raise _error(offset, f"<break time={time!r}> is longer than {MAX_BREAK_S:g} s; "
                     "for a longer silence use a `pause:` segment")
    return seconds


def _say_as(values: dict[str, str], offset: int) -> None:
    kind = values["interpret-as"]
    if kind not in SAY_AS:
        hint = f"; did you mean {_SAY_AS_MEANT[kind]!r}?" if kind in _SAY_AS_MEANT else suggest(kind, SAY_AS)
        raise _error(offset, f"<say-as interpret-as={kind!r}> is not one of {', '.join(SAY_AS)}" + hint)
    form = values.get("format")
    if form is not None and kind != "date":
        raise _error(offset, f"<say-as format> is for interpret-as=\"date\" only; remove format={form!r}")
    if form is not None and form not in DATE_FORMATS:
        raise _error(offset, f"<say-as format={form!r}> is not one of {', '.join(DATE_FORMATS)}" + suggest(form, DATE_FORMATS))


def _sub(values: dict[str, str], offset: int) -> None:
    if not values["alias"].strip():
        raise _error(offset, "<sub alias=\"\"> is empty: give what is to be said")


def _phoneme(values: dict[str, str], offset: int) -> None:
    alphabet = values.get("alphabet", "ipa")
    if alphabet not in ALPHABETS:
        raise _error(offset, f"<phoneme alphabet={alphabet!r}>: only alphabet=\"ipa\" is taken")
    why = ipa_problem(values["ph"])
    if why:
        raise _error(offset, f"<phoneme ph={values['ph']!r}>: {why}")


def _emphasis(values: dict[str, str], offset: int) -> None:
    level = values.get("level", "moderate")
    if level not in EMPHASIS_LEVELS:
        raise _error(offset, f"<emphasis level={level!r}> is not one of {', '.join(EMPHASIS_LEVELS)}"
                     + suggest(level, EMPHASIS_LEVELS))


def _prosody(values: dict[str, str], offset: int) -> None:
    prosody_rate(values["rate"], offset)


def prosody_rate(rate: str, offset: int = 0) -> float:
    """A prosody `rate` ("85%", "+10%", "slow") as a factor of the pace; MarkupError if bad."""
    rate = rate.strip()
    if rate in RATES:
        return RATES[rate]
    match = _PERCENT.fullmatch(rate)
    if match is None:
        hint = f'; did you mean rate="{rate}%"?' if re.fullmatch(r"\d+(\.\d+)?", rate) and float(rate) > 3 else ""
        if re.fullmatch(r"\d*\.\d+|\d", rate):
            hint = f'; did you mean rate="{float(rate) * 100:g}%"?'
        raise _error(offset, f"<prosody rate={rate!r}> must be a percentage (85%) or one of "
                     f"{', '.join(RATES)}" + (hint or suggest(rate, list(RATES))))
    sign, number = match.groups()
    factor = float(number) / 100 if not sign else 1 + (1 if sign == "+" else -1) * float(number) / 100
    low, high = RATE_RANGE
    if not low <= factor <= high:
        raise _error(offset, f"<prosody rate={rate!r}> is out of range: use {low:.0%} to {high:.0%}")
    return factor


_VALUES = {"break": _break, "say-as": _say_as, "sub": _sub, "phoneme": _phoneme,
           "emphasis": _emphasis, "prosody": _prosody}


def check_nesting(element: Element, parent: str | None) -> None:
    """Refuse content where it makes no sense: inside a break, elements inside say-as, sub or
    phoneme, and a say-as, sub or phoneme with nothing to show."""
    spec = ELEMENTS[element.name]
    if spec.empty and element.children:
        raise _error(element.offset, f"<{element.name}> takes no content; write it empty"
                     + suggest_fix(element.name, element.attributes))
    inner = [child for child in element.children if not isinstance(child, str)]
    if spec.text_only and inner:
        raise _error(inner[0].offset, f"<{inner[0].name}> cannot be inside <{element.name}>, which takes "
                     "text only: put it outside")
    if spec.text_only and not element.content.strip():
        raise _error(element.offset, f"<{element.name}> is empty: put the written words inside, "
                     f"<{element.name} ...>words</{element.name}>")
    if element.name == "emphasis" and parent == "emphasis":
        raise _error(element.offset, "<emphasis> inside <emphasis>: give the outer one the level you mean")
    if element.name == "say-as":
        say_as(element, element.offset)  # refuses content it cannot read as that kind


def suggest_fix(name: str, attributes: tuple[tuple[str, str], ...]) -> str:
    """'; did you mean <break time="500ms"/>?' for an element that must be empty."""
    if name != "break":
        return ""
    time = dict(attributes).get("time")
    if time is not None and not _TIME.fullmatch(time):
        time = f"{re.sub(r'[^0-9.]', '', time) or '500'}ms"
    shown = "".join(f' {k}="{v}"' for k, v in attributes if k != "time")
    return f'; did you mean <break time="{time or "500ms"}"{shown}/>?'
