#!/usr/bin/env python3
"""Run the official FHIRPath R4 suite through `fhirbridge fhirpath`, one process per test.

The same rules as fhirpath_conformance (result count, order unless ordered="false", type and
string form of each item, predicate tests read as a Boolean, any error for invalid="..."), applied
to the command's JSON output: proves the command line gives what the library gives.

    run_suite_cli.py --fhirbridge build/engine/app/fhirbridge [--suite DIR] [--min-pass N]
"""

import argparse
import json
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET


def predicate(items):
    if len(items) == 1 and items[0]["type"] == "boolean":
        return [items[0]]
    return [{"type": "boolean", "value": "true" if items else "false"}]


def matches(got, expected, ordered):
    if len(got) != len(expected):
        return False
    def same(g, e):
        return (not e[0] or g["type"] == e[0]) and isinstance(g["value"], str) and g["value"] == e[1]
    if ordered:
        return all(same(g, e) for g, e in zip(got, expected))
    left = list(expected)
    for g in got:
        hit = next((e for e in left if same(g, e)), None)
        if hit is None:
            return False
        left.remove(hit)
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fhirbridge", required=True)
    parser.add_argument("--suite", default=str(pathlib.Path(__file__).resolve().parents[3] /
                                               "shared" / "data" / "fhir" / "fhirpath-r4"))
    parser.add_argument("--min-pass", type=int, default=0)
    args = parser.parse_args()
    suite = pathlib.Path(args.suite)
    root = ET.parse(suite / "tests-fhir-r4.xml").getroot()
    passed = total = 0
    for group in root.iter("group"):
        for test in group.findall("test"):
            total += 1
            expr = test.find("expression")
            cmd = [args.fhirbridge, "fhirpath"]
            if test.get("inputfile"):
                cmd += ["--input", str(suite / "input" / test.get("inputfile"))]
            cmd += ["--", expr.text]
            run = subprocess.run(cmd, capture_output=True, text=True)
            if expr.get("invalid"):
                ok = run.returncode != 0
            elif run.returncode != 0:
                ok = False
            else:
                got = json.loads(run.stdout)
                if test.get("predicate") == "true":
                    got = predicate(got)
                expected = [(o.get("type") or "", o.text or "") for o in test.findall("output")]
                ok = matches(got, expected, test.get("ordered") != "false")
            passed += ok
            if not ok:
                print(f"FAIL {group.get('name')}/{test.get('name')}: {expr.text!r} -> "
                      f"{run.returncode} {run.stdout.strip()} {run.stderr.strip()}")
    print(f"fhirbridge fhirpath: {passed} / {total} passed")
    return 0 if passed >= args.min_pass else 1


if __name__ == "__main__":
    sys.exit(main())
