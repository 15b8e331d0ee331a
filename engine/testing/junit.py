"""Test results as JUnit XML, the report CI systems read: a testsuite per suite, a testcase per case.

A failed case has one `<failure>` whose message lists each failed assertion's message and
whose text adds expression, operator, expected and actual; a case that could not run or be
evaluated has an `<error>`; a disabled one `<skipped/>`. Failed tasks' last log lines go in
`<system-out>`. Written with xml.etree, so every value is escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from pathlib import Path

from engine.testing.assertions import as_text
from engine.testing.runner import CaseResult, CaseStatus


def junit_xml(results: Sequence[CaseResult]) -> str:
    """The JUnit XML document for these results, grouped by suite in first-seen order."""
    root = ElementTree.Element("testsuites", name="roost test")
    suites: dict[tuple[str, str], list[CaseResult]] = {}
    for result in results:
        suites.setdefault((result.suite_path, result.suite_id), []).append(result)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for (path, suite_id), cases in suites.items():
        counts = _counts(cases)
        seconds = sum(case.duration or 0.0 for case in cases)
        attributes = {"name": suite_id, "file": path, **{key: str(value) for key, value in counts.items()},
                      "time": f"{seconds:.3f}"}
        element = ElementTree.SubElement(root, "testsuite", attributes)
        for case in cases:
            _testcase(element, case)
        for key, value in counts.items():
            totals[key] += value
        total_time += seconds
    root.attrib.update({key: str(value) for key, value in totals.items()})
    root.set("time", f"{total_time:.3f}")
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"


def write_junit(results: Sequence[CaseResult], path: str | Path) -> None:
    """Write junit_xml(results) to `path` (its folder created if needed)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(junit_xml(results), encoding="utf-8")


def _counts(cases: Sequence[CaseResult]) -> dict[str, int]:
    return {"tests": len(cases),
            "failures": sum(1 for c in cases if c.status is CaseStatus.FAILED),
            "errors": sum(1 for c in cases if c.status is CaseStatus.ERROR),
            "skipped": sum(1 for c in cases if c.status is CaseStatus.SKIPPED)}


def _testcase(parent: ElementTree.Element, case: CaseResult) -> None:
    element = ElementTree.SubElement(parent, "testcase", name=case.case_id,
                                     classname=f"{case.namespace}.{case.flow_id}.{case.suite_id}",
                                     time=f"{case.duration or 0.0:.3f}")
    if case.execution_id:  # first, as pytest writes testcase properties
        properties = ElementTree.SubElement(element, "properties")
        ElementTree.SubElement(properties, "property", name="executionId", value=case.execution_id)
    if case.status is CaseStatus.SKIPPED:
        ElementTree.SubElement(element, "skipped", message="disabled")
    elif case.status is CaseStatus.FAILED:
        failed = case.failed_assertions
        failure = ElementTree.SubElement(element, "failure", type="AssertionFailure",
                                         message="; ".join(a.error_message or a.operator for a in failed))
        failure.text = "\n".join(
            f"{a.expression} {a.operator} expected: {as_text(a.expected)} actual: {as_text(a.actual)}"
            + (f" (task {a.task_id})" if a.task_id else "") + f"\n  {a.error_message}" for a in failed)
    elif case.status is CaseStatus.ERROR:
        error = ElementTree.SubElement(element, "error", type="TestError", message=case.error or "error")
        error.text = case.error or ""
    if case.failed_task_logs:
        out = ElementTree.SubElement(element, "system-out")
        out.text = "\n".join(f"task {log.task_id} FAILED:\n" + "\n".join(f"  {line}" for line in log.lines)
                             for log in case.failed_task_logs)
