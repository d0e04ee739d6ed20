"""Prints what the API fuzz test (test_api_fuzz.py) did at the end of the session, so CI's
log shows how many requests were made and which failed; the same goes to
var/fuzz-summary.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    module = sys.modules.get("tests.core.test_api_fuzz")
    tally = getattr(module, "TALLY", None)
    if tally is None or not tally.requests:
        return
    failures = sorted(set(tally.failures))
    terminalreporter.write_sep("=", "API fuzz (schemathesis)")
    terminalreporter.write_line(
        f"{tally.requests} requests ({tally.cases} generated cases, {module.EXAMPLES} fuzzing examples "
        f"per operation, roles: {', '.join(module.ROLES)}); by status: {_counts(tally.by_status)}; "
        f"by phase: {_counts(tally.by_phase)}; {tally.last_at - tally.first_at:.0f} s")
    terminalreporter.write_line(f"failing requests: {len(failures)}")
    for line in failures[:50]:
        terminalreporter.write_line(f"  {line}")
    out = Path(__file__).resolve().parents[2] / "var" / "fuzz-summary.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"requests": tally.requests, "cases": tally.cases,
                               "examples_per_operation": module.EXAMPLES, "by_status": tally.by_status,
                               "by_phase": tally.by_phase,
                               "seconds": round(tally.last_at - tally.first_at), "failures": failures}, indent=1))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
