"""The fuzzer's cases: valid story and jobs files (the examples, tests/data/stories, two jobs
files) and the mutations drawn from them, as Hypothesis strategies. The contract each case must
meet is in fuzz_contract.py; tests/script/test_fuzz.py and scripts/fuzz.py run them."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
STORY_DATA = ROOT / "tests" / "data" / "stories"

JOBS_SEEDS = {
    "full": """\
timezone: Asia/Seoul
jobs:
  morning:
    story: stories/{date}/story.yaml   # the build date
    at: 05:30
    publish: public/morning
    keep: 3
    grace: 1h30m
    wav: true
    loudness: broadcast
    assets: [jingles]
    feed:
      title: KBS Morning News
      base_url: https://example.org/morning
  evening:
    story: evening.yaml
    cron: "0 18 * * mon-fri"
    timezone: Europe/London
    publish: public/evening
""",
    "dst": """\
jobs:
  london:
    story: s.yaml
    at: "01:30"
    timezone: Europe/London
    publish: london
  newyork:
    story: s.yaml
    cron: "30 2 * * *"
    timezone: America/New_York
    publish: newyork
  manual:
    story: s.yaml
    publish: manual
""",
}


def story_seeds() -> dict[str, str]:
    seeds = {f"{p.parent.name}/{p.name}": p.read_text("utf-8") for p in sorted((ROOT / "examples").glob("*/*.yaml"))}
    seeds.update({f"stories/{p.name}": p.read_text("utf-8") for p in sorted(STORY_DATA.glob("*.yaml"))})
    return seeds


STORY_SEEDS = story_seeds()

# values of the wrong type, size or shape for any key
ODD_VALUES = [
    "[1, 2]", "{a: 1}", "null", "~", "true", "no", "-1", "0", "1e309", "-1e309", ".inf", ".nan",
    "99999999999999999999999999999999", "0x7fffffffffffffff", "1_000_000", "2019-13-45", "''", '""',
    "!!binary aGVsbG8=", "!!python/object/apply:os.system [ls]", "*undefined", "&a [*a]", "|",
    ">-", "'unclosed", '"unclosed', "[unclosed", "{unclosed", "- item", "key: value", "a, b",
    "x" * 20_000, "-" * 300, "builtin:open", "builtin:nothing", "../../etc/passwd", "/dev/zero",
    "clips/", "clips/../clips/moon.wav", "%", "@at", "`tick`", "#", "? complex", "!custom tag",
]
ODD_CHARS = [
    "\x00", "\ufeff", "\u202e", "\u200f", "\u200b", "\u2028", "\u2029", "\x85", "\t", "\r", "\x1b",
    "\x7f", "\U0001f600", "e\u0301", "\ud800", "\udfff", "\uffff", "\U0010ffff", "\xa0", "：",
]


@dataclass(frozen=True)
class Case:
    kind: str  # "story" or "jobs"
    seed: str  # the seed's name
    steps: tuple[str, ...]  # the mutations, as a reader would describe them
    content: bytes

    def describe(self) -> str:
        return f"{self.kind} {self.seed}: " + "; ".join(self.steps)


def _value_span(line: str) -> tuple[int, int] | None:
    """Where the value of `key: value` (or `- value`) is on a line, if it has one."""
    match = re.match(r"^(\s*(?:- )?[^:#\s][^:#]*:\s+|\s*- )(?P<value>\S.*?)\s*(#.*)?$", line)
    return (match.start("value"), match.end("value")) if match else None


@st.composite
def _line_mutation(draw: st.DrawFn, lines: list[str]) -> tuple[list[str], str]:
    """One edit of the text, line-wise: what a slip of the hand or a bad merge does."""
    op = draw(st.sampled_from(["delete", "duplicate", "move", "join", "truncate", "indent", "odd-char",
                               "swap", "odd-value", "nest", "markup"] + ["delete", "duplicate", "swap", "odd-value"] * 2))
    out = list(lines) or [""]
    if op in _VALUE_EDITS:
        spans = [(k, s) for k, line in enumerate(out) if (s := _value_span(line))]
        if not spans:
            return out, f"{op}: no value to change"
        return draw(_VALUE_EDITS[op](out, spans))
    i = draw(st.integers(0, len(out) - 1))
    return draw(_LINE_EDITS[op](out, i)), f"{op} line {i + 1}"


def _delete(out: list[str], i: int) -> st.SearchStrategy[list[str]]:
    return st.just(out[:i] + out[i + 1 :])


def _duplicate(out: list[str], i: int) -> st.SearchStrategy[list[str]]:
    return st.just(out[: i + 1] + out[i:])


def _move(out: list[str], i: int) -> st.SearchStrategy[list[str]]:
    rest = out[:i] + out[i + 1 :]
    return st.integers(0, len(rest)).map(lambda j: rest[:j] + [out[i]] + rest[j:])


def _join(out: list[str], i: int) -> st.SearchStrategy[list[str]]:
    return st.just(out[:i] + [out[i] + " " + out[i + 1].lstrip()] + out[i + 2 :] if i + 1 < len(out) else out)


def _truncate(out: list[str], i: int) -> st.SearchStrategy[list[str]]:
    # the line cut short, and now and then the whole file after it (a half-saved file)
    return st.tuples(st.integers(0, len(out[i])), st.integers(0, 5)).map(
        lambda c: out[:i] + [out[i][: c[0]]] + (out[i + 1 :] if c[1] else []))


def _indent(out: list[str], i: int) -> st.SearchStrategy[list[str]]:
    def shift(delta: int) -> list[str]:
        line = " " * delta + out[i] if delta > 0 else out[i][-delta:] if out[i][:-delta].isspace() else out[i]
        return out[:i] + [line] + out[i + 1 :]

    return st.sampled_from([-4, -2, -1, 1, 2, 4]).map(shift)


def _odd_char(out: list[str], i: int) -> st.SearchStrategy[list[str]]:
    return st.tuples(st.sampled_from(ODD_CHARS), st.integers(0, len(out[i]))).map(
        lambda c: out[:i] + [out[i][: c[1]] + c[0] + out[i][c[1] :]] + out[i + 1 :])


_LINE_EDITS = {"delete": _delete, "duplicate": _duplicate, "move": _move, "join": _join,
               "truncate": _truncate, "indent": _indent, "odd-char": _odd_char}

Spans = list[tuple[int, tuple[int, int]]]


def _put(out: list[str], k: int, span: tuple[int, int], value: str) -> list[str]:
    a, b = span
    return out[:k] + [out[k][:a] + value + out[k][b:]] + out[k + 1 :]


@st.composite
def _swap(draw: st.DrawFn, out: list[str], spans: Spans) -> tuple[list[str], str]:
    (k, s), (k2, s2) = draw(st.sampled_from(spans)), draw(st.sampled_from(spans))
    if k == k2:
        return out, f"swap line {k + 1} with itself"
    v1, v2 = out[k][s[0] : s[1]], out[k2][s2[0] : s2[1]]
    return _put(_put(out, k, s, v2), k2, s2, v1), f"swap values of lines {k + 1} and {k2 + 1}"


@st.composite
def _odd_value(draw: st.DrawFn, out: list[str], spans: Spans) -> tuple[list[str], str]:
    k, s = draw(st.sampled_from(spans))
    value = draw(st.sampled_from(ODD_VALUES) | st.text(max_size=30) | st.integers().map(str)
                 | st.floats().map(repr))
    return _put(out, k, s, value), f"line {k + 1} value -> {value[:60]!r}"


@st.composite
def _nest(draw: st.DrawFn, out: list[str], spans: Spans) -> tuple[list[str], str]:
    k, s = draw(st.sampled_from(spans))
    depth = draw(st.integers(2, 300))
    opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("- ", "")]))
    if closer:
        value = opener * depth + "1" + closer * depth
    else:  # block style: each level one line further in
        value = "\n" + "\n".join(" " * (2 * d + 4) + opener for d in range(depth)) + "1"
    return _put(out, k, s, value), f"nest line {k + 1} {depth} deep with {opener.strip()!r}"


# pieces of voice-direction markup (docs/story-format.md, Markup), good and bad, for tag soup
MARKUP_PIECES = [
    '<break time="500ms"/>', '<break time="11s"/>', '<break time="1e9ms"/>', "<break>", "</break>",
    '<break strength="x-strong"/>', '<say-as interpret-as="characters">', '<say-as interpret-as="date" format="dmy">',
    "</say-as>", '<sub alias="x">', "</sub>", '<phoneme ph="kɪm">', '<phoneme ph="ʙ͡">', "</phoneme>",
    "<emphasis>", '<emphasis level="loud">', "</emphasis>", '<prosody rate="70%">', '<prosody rate="-999%">',
    "</prosody>", "<speak>", "<", ">", "</", "/>", "<!--", "-->", "<?xml?>", "&amp;", "&lt;", "&#0;", "&#x110000;",
    "&#9999999;", "&nbsp;", "&", ";", '"', "'", "=", "KBS", "2019-11-22", "4,512", " ", "\n",
]


@st.composite
def markup_soup(draw: st.DrawFn) -> str:
    """Markup a producer, a bad merge or an attacker might put in a text."""
    kind = draw(st.sampled_from(["soup", "huge-attribute", "deep", "entities"]))
    if kind == "huge-attribute":
        name = draw(st.sampled_from(["alias", "ph", "time", "rate", "x" * 40]))
        return f'<sub {name}="{"a" * draw(st.integers(150, 20_000))}">w</sub>'
    if kind == "deep":
        depth = draw(st.integers(5, 400))
        tag = draw(st.sampled_from(["emphasis", 'prosody rate="90%"', "sub", "break"]))
        return f"<{tag}>" * depth + "w" + f"</{tag.split()[0]}>" * draw(st.integers(0, depth))
    if kind == "entities":
        return "".join(draw(st.lists(st.sampled_from(["&amp;", "&lt;", "&#65;", "&#x41;", "&bogus;", "&", "&#;"]),
                                     min_size=1, max_size=40)))
    return "".join(draw(st.lists(st.sampled_from(MARKUP_PIECES) | st.text(max_size=6), min_size=1, max_size=12)))


@st.composite
def _markup(draw: st.DrawFn, out: list[str], spans: Spans) -> tuple[list[str], str]:
    k, (a, b) = draw(st.sampled_from(spans))
    at = draw(st.integers(a, b))
    soup = draw(markup_soup())
    quoted = draw(st.sampled_from(["", "'", '"']))
    value = out[k][a:at] + soup + out[k][at:b]
    if quoted:
        value = quoted + value.replace(quoted, "''" if quoted == "'" else '\\"') + quoted
    return _put(out, k, (a, b), value), f"line {k + 1} markup {soup[:60]!r}"


_VALUE_EDITS = {"swap": _swap, "odd-value": _odd_value, "nest": _nest, "markup": _markup}


@st.composite
def _encode(draw: st.DrawFn, text: str) -> tuple[bytes, str]:
    """The text as bytes: mostly UTF-8, sometimes another encoding or a byte-level accident."""
    how = draw(st.sampled_from(["utf-8"] * 6 + ["latin-1", "utf-16", "utf-8-sig", "surrogates",
                                               "random-bytes", "flip-byte", "crlf"]))
    if how == "latin-1":
        return (text + "\ncafé: naïve\n").encode("latin-1", "replace"), "saved as latin-1"
    if how == "utf-16":
        return text.encode("utf-16", "surrogatepass"), "saved as UTF-16"
    raw = text.encode("utf-8", "surrogatepass")  # a lone surrogate becomes invalid UTF-8
    if how == "utf-8":
        return raw, ""
    if how == "utf-8-sig":
        return b"\xef\xbb\xbf" + raw, "with a byte order mark"
    if how == "crlf":
        return raw.replace(b"\n", b"\r\n"), "CRLF line ends"
    if how == "surrogates":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + "\ud83d".encode("utf-8", "surrogatepass") + raw[at:], f"lone surrogate at byte {at}"
    at = draw(st.integers(0, max(len(raw) - 1, 0)))
    if how == "flip-byte" and raw:
        flipped = raw[at] ^ (1 << draw(st.integers(0, 7)))
        return raw[:at] + bytes([flipped]) + raw[at + 1 :], f"bit flipped at byte {at}"
    noise = draw(st.binary(min_size=1, max_size=64))
    return raw[:at] + noise + raw[at:], f"{len(noise)} random bytes at byte {at}"


# -- mutations of the data: valid YAML whose values are wrong for the format ---------------

Tree = object


def _odd_data() -> st.SearchStrategy[Tree]:
    leaf = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**18)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
            | st.sampled_from(["", " ", "builtin:open", "clips/moon.wav", "auto", "anchor", "phone",
                               "x" * 12_000, "\x00", "\u202e", "\ufeff"] + ODD_CHARS))
    return st.recursive(leaf, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(
        st.text(min_size=1, max_size=12) | st.sampled_from(["role", "text", "gap", "clip", "pause"]),
        kids, max_size=3), max_leaves=8)


def _paths(tree: Tree, at: tuple = ()) -> list[tuple]:
    """Every place in the data: mapping keys and list items, depth first."""
    found = [at]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _paths(value, (*at, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _paths(value, (*at, index))
    return found


@st.composite
def _tree_mutation(draw: st.DrawFn, tree: Tree) -> tuple[Tree, str]:
    paths = _paths(tree)[1:]
    if not paths:
        return tree, "tree: nothing to change"
    path = draw(st.sampled_from(paths))
    parent = tree
    for step in path[:-1]:
        parent = parent[step]  # type: ignore[index]
    last = path[-1]
    op = draw(st.sampled_from(["replace", "replace", "delete", "copy", "unknown-key"]))
    if op == "delete":
        del parent[last]  # type: ignore[union-attr]
    elif op == "copy" and isinstance(parent, list):
        parent.insert(last, parent[last])
    elif op == "unknown-key" and isinstance(parent, dict):
        parent[draw(st.text(min_size=1, max_size=12))] = draw(_odd_data())
    else:
        value = draw(_odd_data())
        parent[last] = value  # type: ignore[index]
        return tree, f"{'.'.join(map(str, path))} = {repr(value)[:60]}"
    return tree, f"{op} {'.'.join(map(str, path))}"


_TREES = {"story": {name: yaml.safe_load(text) for name, text in STORY_SEEDS.items()},
          "jobs": {name: yaml.safe_load(text) for name, text in JOBS_SEEDS.items()}}


@st.composite
def markup_cases(draw: st.DrawFn) -> Case:
    """A valid story with markup soup put into one of its speech texts (1 to 3 times)."""
    seed = draw(st.sampled_from(sorted(STORY_SEEDS)))
    lines, steps = STORY_SEEDS[seed].split("\n"), []
    spans = [(k, s) for k, line in enumerate(lines) if (s := _value_span(line)) and _SPEECH.match(line)]
    for _ in range(draw(st.integers(1, 3))):
        if spans:
            lines, step = draw(_markup(lines, spans))
            steps.append(step)
    return Case("story", seed, tuple(steps), "\n".join(lines).encode("utf-8"))


# a short-form speech line or a long form's text line, by their look
_SPEECH = re.compile(r"^\s*(?:- )?(?!(?:sting|clip|pause|speaker|title|headline|role|voice|effect|gap|id|date|"
                     r"language|bed|name|gender|start|end|gain|loudness|formats)\b)[A-Za-z_-]+:\s+\S")


@st.composite
def cases(draw: st.DrawFn, kinds: tuple[str, ...] = ("story", "jobs")) -> Case:
    kind = draw(st.sampled_from(kinds)) if len(kinds) > 1 else kinds[0]
    seeds = STORY_SEEDS if kind == "story" else JOBS_SEEDS
    seed = draw(st.sampled_from(sorted(seeds)))
    text, steps = seeds[seed], []
    if draw(st.booleans()):  # wrong data in well-formed YAML, or...
        tree = copy.deepcopy(_TREES[kind][seed])
        for _ in range(draw(st.integers(1, 3))):
            tree, step = draw(_tree_mutation(tree))
            steps.append(step)
        text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False)
    lines = text.split("\n")
    for _ in range(draw(st.integers(0 if steps else 1, 3))):  # ...slips in the text itself
        lines, step = draw(_line_mutation(lines))
        steps.append(step)
    content, how = draw(_encode("\n".join(lines)))
    if how:
        steps.append(how)
    return Case(kind, seed, tuple(steps), content)


