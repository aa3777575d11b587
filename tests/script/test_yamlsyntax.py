"""YAML syntax errors as one positioned problem each, with the fix in the file's terms: every
hint of yamlsyntax, where PyYAML puts the error (or where the fix goes), and the tags refused."""

from __future__ import annotations

import pytest

from bulletin.base.errors import InputError
from bulletin.script.yamlsyntax import MAX_DEPTH, compose

CASES = [
    ("a:\n\tb: 1\n", 2, 1, "a tab character; YAML indents with spaces only: replace the tab with spaces"),
    ("a: @x\n", 1, 4, "text cannot start with '@': put the text in quotes"),
    ("a: b: c\n", 1, 5, "unexpected ':'; put text that contains ': ' in quotes, or check this line's indentation"),
    ("a:\n  - 1\n - 2\n", 3, 2, "the indentation does not line up with the lines above; keys of one mapping "
                                "and items of one list must start in the same column"),
    ("a: 1\nb\nc: 2\n", 3, 1, "expected 'key: value' here; add ': ' after the key, or check the indentation"),
    ("a: [1, 2\n", 2, 1, "a list opened with '[' is not closed; add ']' (or a ',' between items)"),
    ("a: {b: 1\n", 2, 1, "a mapping opened with '{' is not closed; add '}' (or a ',' between entries)"),
    ("a: *x\n", 1, 4, "alias *x has no anchor &x before it; define the anchor first"),
    ("a: &x 1\nb: &x 2\nc: *x\n", 2, 4, "this anchor name is already used above; give each anchor its own name"),
    ("a: 1\n---\nb: 2\n", 2, 1, "a second YAML document ('---'); a file holds one document: remove the '---' line"),
    ("a: 1\n...\nb\n", 3, 1, "unexpected text after the document; check the indentation"),
    ('a: "abc\nb: 2\n', 1, 4, "this quoted text is never closed; add the closing quote"),
    ("a: b\x07\n", 1, 5, "control character U+0007 is not allowed; delete it"),
    ("a: 1\nb: x\x07y\n", 2, 5, "control character U+0007 is not allowed; delete it"),
    ('a: "\\U0019A23E"\n', 1, 7, "an escape in quoted text (\\U...) names no Unicode character; fix or remove it"),
    ("a: !!python/object:os.system x\n", 1, 4,
     "tag !!python/object:os.system builds a program object; such tags are refused: remove it"),
    ("a:\n  - ok\n  - !foo x\n", 3, 5, "tag !foo is not plain YAML; remove the tag"),
    ("a: !!binary aGVsbG8=\n", 1, 4, "tag !!binary is not plain YAML; remove the tag"),
    ("!shout {a: 1}\n", 1, 1, "tag !shout is not plain YAML; remove the tag"),
    ("? !shout k\n: v\n", 1, 3, "tag !shout is not plain YAML; remove the tag"),
]


@pytest.mark.parametrize(("text", "line", "column", "what"), CASES)
def test_a_syntax_error_is_one_problem_where_to_fix_it(text: str, line: int, column: int, what: str):
    with pytest.raises(InputError) as caught:
        compose("s.yaml", text)
    assert str(caught.value) == f"s.yaml:{line}:{column}: YAML: {what}"


@pytest.mark.parametrize("text", [
    "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
    "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 1)) + "  " * (MAX_DEPTH + 1) + "v\n",
])
def test_nesting_past_the_limit_is_refused_in_flow_and_block_style(text: str):
    with pytest.raises(InputError) as caught:
        compose("s.yaml", text)
    assert str(caught.value).endswith(f"YAML: nested more than {MAX_DEPTH} levels deep; a story needs only a few levels")


def test_nesting_up_to_the_limit_and_plain_tags_are_accepted():
    deep = compose("s.yaml", "a: " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2) + "\n")
    assert deep is not None and deep.tag == "tag:yaml.org,2002:map"
    plain = compose("s.yaml", "a: !!str 1\nb: !!int '2'\nc: !!float 3\nd: !!bool yes\ne: !!null ''\n"
                              "f: !!timestamp 2026-01-02\ng: !!map {x: 1}\nh: !!seq [1]\n<<: {i: 1}\n")
    assert plain is not None and len(plain.value) == 9


def test_an_empty_document_has_no_root():
    assert compose("s.yaml", "") is None
    assert compose("s.yaml", "# a comment only\n") is None


def test_a_mapping_follows_merge_keys_and_reports_every_bad_key():
    from bulletin.script.yamlnodes import Reader

    root = compose("s.yaml", "base: &b {role: anchor, name: A}\nm:\n  <<: *b\n  name: B\n? [x]\n: 1\ncolour: red\n")
    reader = Reader("s.yaml")
    top = reader.mapping(root, "", ("base", "m"))
    member = reader.mapping(top["m"][1], "m", ("role", "name"))
    assert {key: value.value for key, (_, value) in member.items()} == {"role": "anchor", "name": "B"}  # here wins
    with pytest.raises(InputError) as caught:
        reader.raise_if_problems()
    assert str(caught.value).splitlines() == [
        "s.yaml:5:3: file: keys must be plain words, not a list or mapping",
        "s.yaml:7:1: colour: unknown key; known keys: base, m",  # a bad key does not end the check
    ]
