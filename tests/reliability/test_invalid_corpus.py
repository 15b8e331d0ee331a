"""The corpus of broken flows in tests/flows/invalid/: each gives exactly the errors in its
`.expected` file (one `file:line:col: message` per line), through the loader and through
`roost validate`, which exits 2 without a traceback.

To add a case: write NAME.yml, run `roost validate NAME.yml 2> NAME.expected` from that
folder, and read the message as a user would before keeping it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core.errors import InvalidFlowError
from engine.flow.loader import load_flow
from tests.conftest import REPO_ROOT
from tests.reliability import cases
from tests.reliability.conftest import roost

CORPUS = pytest.mark.reliability("Bad input: corpus of hand-written broken flows",
                                 "the exact file:line:col: message lines of each .expected file")
FOLDER = REPO_ROOT / "tests" / "flows" / "invalid"
FLOWS = sorted(FOLDER.glob("*.yml"))


def expected_lines(flow: Path) -> list[str]:
    return flow.with_suffix(".expected").read_text(encoding="utf-8").splitlines()


@CORPUS
def test_the_corpus_has_at_least_50_cases_each_with_its_expected_message():
    assert len(FLOWS) >= 50
    for flow in FLOWS:
        lines = expected_lines(flow)
        assert lines, f"{flow.name} has no expected message"
        assert all(line.startswith(f"{flow.name}:") for line in lines), flow.name


@CORPUS
@pytest.mark.parametrize("flow", FLOWS, ids=[f.stem for f in FLOWS])
def test_each_broken_flow_gives_exactly_its_expected_errors(flow, monkeypatch):
    cases.count()
    monkeypatch.chdir(FOLDER)
    with pytest.raises(InvalidFlowError) as raised:
        load_flow(Path(flow.name))
    assert [str(error) for error in raised.value.errors] == expected_lines(flow)


@CORPUS
def test_roost_validate_prints_every_expected_line_and_exits_2(home):
    result = roost("validate", *(f.name for f in FLOWS), home=home, cwd=FOLDER)
    assert result.returncode == 2
    assert result.stdout == ""
    expected = [line for flow in FLOWS for line in expected_lines(flow)]
    assert result.stderr.splitlines() == expected
