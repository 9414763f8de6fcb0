"""`verify --junit FILE`: the checks as a JUnit XML report, which CI systems show as test results: one
test suite per project (one, unless verify ran on a fleet file), one test case per check; a skipped
check is <skipped> with its reason, a failed one <failure> carrying the diagnosis (the one-line fix) as
its message and Google's reason as its type.

Written with the standard library's xml.etree: the report is four elements (testsuites, testsuite,
testcase, skipped/failure) that ElementTree escapes correctly; a JUnit library (junit-xml, junitparser)
would be a dependency for that. The text is redacted like every other output of verify.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

from gcp_setup.errors import GcpSetupError
from gcp_setup.verify.core import FAILED, SKIPPED, CheckResult, redact_all

SUITE = "gcp-setup verify"


def report(suites: Mapping[str, list[CheckResult]], secrets: list[str]) -> ET.ElementTree:
    """`suites`: each project's checks, by the name of its test suite."""
    root = ET.Element("testsuites", name=SUITE)
    for name, results in suites.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(results)),
            failures=str(sum(r.status == FAILED for r in results)),
            skipped=str(sum(r.status == SKIPPED for r in results)),
            errors="0",
            time=f"{sum(r.latency_ms for r in results) / 1000:.3f}",
        )
        suite.extend(_testcase(result, secrets) for result in results)
    ET.indent(root)
    return ET.ElementTree(root)


def _testcase(result: CheckResult, secrets: list[str]) -> ET.Element:
    case = ET.Element(
        "testcase", classname="gcp_setup.verify", name=result.name, time=f"{result.latency_ms / 1000:.3f}"
    )
    if result.status == SKIPPED:
        ET.SubElement(case, "skipped", message=redact_all(result.hint, secrets))
    elif result.status == FAILED:
        failure = ET.SubElement(
            case, "failure", message=redact_all(result.hint, secrets), type=result.reason or "failed"
        )
        failure.text = redact_all(f"{result.title}\n{result.detail}\nfix: {result.hint}", secrets)
    else:
        seen = "\n".join(text for text in (result.detail, result.hint) if text)
        ET.SubElement(case, "system-out").text = redact_all(seen, secrets)
    return case


def write(path: Path, suites: Mapping[str, list[CheckResult]], secrets: list[str]) -> None:
    try:
        report(suites, secrets).write(path, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise GcpSetupError(
            f"--junit {path}: {exc.strerror or exc}; give a file in a directory that exists"
        ) from exc
