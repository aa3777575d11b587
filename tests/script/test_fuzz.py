"""Mutational fuzzing of story and jobs files (tests/script/fuzz_cases.py, fuzz_contract.py): every mutant ends
in success or in exit 2 with every line positioned, never a traceback, within a time limit.
`python scripts/fuzz.py N` runs as many as asked."""

from __future__ import annotations

from pathlib import Path

import pytest
from fuzz_cases import Case, cases, markup_cases
from fuzz_contract import prepare, run_case
from hypothesis import HealthCheck, given, settings


def fuzz_settings(examples: int) -> settings:
    # derandomized: the normal suite tries the same cases every run (scripts/fuzz.py explores)
    return settings(max_examples=examples, database=None, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz")
    prepare(path)
    return path


@fuzz_settings(300)
@given(case=cases(("story",)))
def test_mutated_stories_keep_the_contract(folder: Path, case: Case) -> None:
    why = run_case(case, folder)
    assert why is None, f"{case.describe()}\n{why}"


@fuzz_settings(60)
@given(case=markup_cases())
def test_stories_with_markup_soup_keep_the_contract(folder: Path, case: Case) -> None:
    why = run_case(case, folder)
    assert why is None, f"{case.describe()}\n{why}"


@fuzz_settings(150)
@given(case=cases(("jobs",)))
def test_mutated_jobs_files_keep_the_contract(folder: Path, case: Case) -> None:
    why = run_case(case, folder)
    assert why is None, f"{case.describe()}\n{why}"


@fuzz_settings(4)
@given(case=cases())
def test_mutants_through_the_command_line(folder: Path, case: Case) -> None:
    why = run_case(case, folder, as_subprocess=True)
    assert why is None, f"{case.describe()}\n{why}"


# what the fuzzer found, kept: each broke the contract before its fix
FOUND = [
    Case("jobs", "dst", ("publish: a NUL byte",), b'jobs:\n  newyork:\n    story: s.yaml\n    publish: "\\0x"\n'),
    Case("jobs", "dst", ("assets: a NUL byte",), b'jobs:\n  a:\n    story: s.yaml\n    publish: p\n    assets: ["\\0"]\n'),
    Case("story", "anchors", ("unclosed {",), b"title: T\ncast:\n  anchor: {role: a"),
    Case("jobs", "full", ("timezone: a folder of the zone database",), b"timezone: Europe\njobs: {a: {story: s, publish: p}}\n"),
    Case("jobs", "full", ("timezone: a name too long",), b"timezone: " + b"-" * 300 + b"\njobs: {a: {story: s, publish: p}}\n"),
    Case("story", "anchors", ("a line separator in a key",), b'title: T\n"ca\\Lst": {anchor: {role: anchor}}\n'),
    Case("story", "anchors", ("an escape past U+10FFFF",), b'title: "\\U0019A23E"\n'),
    Case("story", "anchors", ("a key that starts with a space",), b'" title": T\n'),
    Case("story", "anchors", ("NEL in a cast id",), b'title: T\ncast: {"a\\Nb": {role: anchor}}\nsegments: [{pause: 1}]\n'),
]


@pytest.mark.parametrize("case", FOUND, ids=lambda case: case.steps[0])
def test_what_the_fuzzer_found(folder: Path, case: Case) -> None:
    why = run_case(case, folder)
    assert why is None, f"{case.describe()}\n{why}"
