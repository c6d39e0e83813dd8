#!/usr/bin/env python3
"""Build fhirbridge's terminology tables (mappers/terminology/*.tsv).

The tables are written in fhirbridge's own format from the facts (codes, reference ids, units,
LOINC codes) in the shared MDC data folder and the FHIR R4 vital-signs profiles. The generated
files are committed and embedded into the binary at build time, so nothing here runs at run time.

    scripts/build-terminology.py                  # regenerate mappers/terminology/*.tsv
    scripts/build-terminology.py --check          # exit 1 when the committed tables are stale
    scripts/build-terminology.py --shared DIR     # use another copy of the shared folder

Every decision the data forces on us (conflicts, errata, ties) is made in this file, explained in
a comment, and reported on stderr when it applies. Standard library only.
"""

from __future__ import annotations

import argparse
import collections
import csv
import dataclasses
import hashlib
import io
import json
import os
import pathlib
import re
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "mappers" / "terminology"

# ------------------------------------------------------------------------------------------------
# Facts that are not in the shared CSVs.

# IHE PCD TF-2 Rev 9.0 Table B.8.5-1 (ACM, PCD-04): the alert attributes are 68480..68485. The hRTM
# snapshot (and the IHE Pump WG rows of the vendor list) give 68164..68169 for the same refids, but
# those numbers are the IEEE 11073-20601 attributes MDC_ATTR_DEV_CONFIG_ID .. _ENUM_OBS_VAL_SIMP_OID.
# Decision: the IHE numbers are the preferred codes (PCD-04 senders use them, e.g. the Draeger
# samples in shared/data/hl7v2); the hRTM numbers stay valid *alternative* codes of the same refid
# (older senders use them), and the preferred refid of 68164..68169 is the 20601 attribute.
IHE_ACM_CODES = {
    "MDC_ATTR_ALERT_SOURCE": 68480,
    "MDC_ATTR_EVENT_PHASE": 68481,
    "MDC_ATTR_ALARM_STATE": 68482,
    "MDC_ATTR_ALARM_INACTIVATION_STATE": 68483,
    "MDC_ATTR_ALARM_PRIORITY": 68484,
    "MDC_ATTR_ALERT_TYPE": 68485,
}

# MDC unit codes that two sources give to two *different* units (not synonyms): the IEEE
# 11073-20601 / 104xx personal-health units (Antidote list) and the RTM dose-rate/other units
# (rosetta_units). A refid that names either is a consistent pair (each source says so), but the
# number alone does not say which unit was meant, so these codes get NO UCUM code: a value that
# comes with one of them cannot be turned into a Quantity code by us (never guess the unit).
HOMONYM_UNIT_CODES = {268832, 268864, 268896, 268928, 268960}

# Errata in the RTM units export, corrected here (each with the evidence):
UCUM_ERRATA = {
    # 'a' is the UCUM annum (year); the term is the ampere. The RTM's own symbol column says 'A'.
    "MDC_DIM_X_AMPS": "A",
    # 'mol/cm3' is the unit of MDC_DIM_X_MOLE_PER_CM_CUBE (266784); this term is equivalents per
    # cubic centimetre (the RTM symbol column says 'eq cm-3').
    "MDC_DIM_X_EQUIV_PER_CM_CUBE": "eq/cm3",
}

# The sources in order of authority for choosing the *preferred* refid of a code (and the preferred
# code of a refid): an IHE TF table, then the harmonized RTM, then the published IEEE 20601 /
# 104xx nomenclature, then the RTM unit list, then vendor Rosetta rows, then names we only know as
# the unit columns of term rows (hrtm-uom, rtm-vendor-uom: a unit named where a term's units are
# listed is a weaker witness of the unit's name than the unit list itself), then names we only know
# as hRTM synonyms or derive from the unit naming rule.
SOURCE_RANK = {
    "ihe-pcd-tf2": 0,
    "hrtm": 1,
    "x73-20601": 2,
    "rtm-units": 3,
    "rtm-vendor": 4,
    "hrtm-uom": 5,
    "rtm-vendor-uom": 5,
    "hrtm-synonym": 6,
    "derived-x-prefix": 7,
}

# FHIR R4 vital signs: LOINC displays (LOINC long common names as used by the FHIR R4 profiles
# and their examples).
LOINC_DISPLAY = {
    "8867-4": "Heart rate",
    "2708-6": "Oxygen saturation in Arterial blood",
    "59408-5": "Oxygen saturation in Arterial blood by Pulse oximetry",
    "9279-1": "Respiratory rate",
    "8310-5": "Body temperature",
    "29463-7": "Body weight",
    "8302-2": "Body height",
    "85354-9": "Blood pressure panel with all children optional",
    "8480-6": "Systolic blood pressure",
    "8462-4": "Diastolic blood pressure",
}
FHIR_SD = "http://hl7.org/fhir/StructureDefinition/"
# LOINC code -> (profile id, role). The profile ids are the R4 core vital-signs profiles.
LOINC_PROFILE = {
    "8867-4": ("heartrate", "single"),
    "2708-6": ("oxygensat", "single"),
    "9279-1": ("resprate", "single"),
    "8310-5": ("bodytemp", "single"),
    "29463-7": ("bodyweight", "single"),
    "8302-2": ("bodyheight", "single"),
    "85354-9": ("bp", "panel"),
    "8480-6": ("bp", "bp-systolic"),
    "8462-4": ("bp", "bp-diastolic"),
}
# Blood-pressure families: the compound term (the panel's MDC code) and its systolic, diastolic and
# mean terms. MDC numbers them base+1/+2/+3. The cuff family (150301..150303) is grouped under
# MDC_PRESS_BLD_NONINV 150020 as MAPPING.md says (150300 MDC_PRESS_CUFF is the cuff pressure
# itself, not a panel). The arterial family groups under MDC_PRESS_BLD_ART 150032.
BP_FAMILIES = {
    150020: (150021, 150022, 150023),
    150032: (150033, 150034, 150035),
}
BP_FAMILY_PANEL = {150301: 150020, 150302: 150020, 150303: 150020}
# Panels we add although the quick reference has no row for them (see BP_FAMILIES).
EXTRA_PANELS = (150032,)

# Unit spellings that are the same unit as a vital-sign profile unit with factor 1, so a value may
# be re-labelled without changing it. Each entry: (from, to, note).
UCUM_EQUIVALENTS = [
    ("{beat}/min", "/min", "annotation only; UCUM annotations do not change the unit"),
    ("{beats}/min", "/min", "annotation only"),
    ("{pulse}/min", "/min", "annotation only"),
    ("{pulses}/min", "/min", "annotation only"),
    ("{breath}/min", "/min", "annotation only"),
    ("{breaths}/min", "/min", "annotation only"),
    ("{resp}/min", "/min", "annotation only"),
    ("{count}/min", "/min", "annotation only"),
    ("1/min", "/min", "the same UCUM unit written with an explicit 1"),
    ("mmHg", "mm[Hg]", "NOT valid UCUM, but devices send it"),
    ("degC", "Cel", "NOT valid UCUM, but devices send it"),
    ("percent", "%", "NOT valid UCUM, but devices send it"),
]

REFID_RE = re.compile(r"MDC_[A-Za-z0-9_]+\Z")
NOM_RE = re.compile(r"NOM_[A-Za-z0-9_]+\Z")
LOINC_RE = re.compile(r"\b(\d{1,7}-\d)\b")
UCUM_TOKEN_RE = re.compile(r"[!-~]+\Z")  # printable ASCII without space


def warn(msg: str) -> None:
    print(f"build-terminology: {msg}", file=sys.stderr)


def read_csv(path: pathlib.Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def parse_code(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit():
        return None
    value = int(text)
    return value if value < 2**32 else None


@dataclasses.dataclass
class Claim:
    refid: str
    code: int
    source: str
    order: int  # position in its source file (for ties)
    vendor: str = ""


class Builder:
    def __init__(self, shared: pathlib.Path):
        self.shared = shared
        self.mdc = shared / "data" / "mdc"
        self.fhir = shared / "data" / "fhir" / "definitions-r4-subset"
        self.claims: list[Claim] = []
        self.hrtm_rows: dict[str, dict[str, str]] = {}
        self.hrtm_synonym_pairs: list[tuple[str, str]] = []  # (refid, synonym)
        self.vendor_aliases: dict[str, int] = {}
        self.unit_rows: list[dict[str, str]] = []
        self.skipped = collections.Counter()
        self.inputs: list[pathlib.Path] = []

    # -- reading ---------------------------------------------------------------------------------

    def claim(self, refid: str, code: int, source: str, order: int, where: str, vendor: str = ""):
        if not REFID_RE.match(refid):
            self.skipped[f"{where}: refid is not an MDC reference id"] += 1
            return
        if code < 0x10000:
            # A number below 65536 has no partition: it is a bare term code (e.g. the ST-segment
            # rows 769.. of the hRTM). Completing it with a guessed partition would invent a code.
            self.skipped[f"{where}: code has no partition (bare term code)"] += 1
            return
        self.claims.append(Claim(refid, code, source, order, vendor))

    def read_hrtm(self):
        path = self.mdc / "hrtm_harmonized.csv"
        self.inputs.append(path)
        for i, row in enumerate(read_csv(path)):
            refid = row["refid"].strip()
            self.hrtm_rows.setdefault(refid, row)
            for syn in row["synonym"].split():
                self.hrtm_synonym_pairs.append((refid, syn))
            self.read_unit_pairs(row["uom_mdc"].split(), row["uom_cf_code"].split(), "hrtm-uom", i)
            if not row["cf_code"].strip():
                self.skipped["hrtm_harmonized.csv: no cf_code"] += 1
                continue
            code = parse_code(row["cf_code"])
            if code is None:
                self.skipped["hrtm_harmonized.csv: invalid cf_code"] += 1
                continue
            self.claim(refid, code, "hrtm", i, "hrtm_harmonized.csv")

    def read_unit_pairs(self, refids: list[str], codes: list[str], source: str, order: int):
        # The per-term unit lists name units by refid and by code in two parallel lists. Only when
        # both lists have the same length do we know which code belongs to which refid.
        if not refids or len(refids) != len(codes):
            return
        for refid, text in zip(refids, codes):
            code = parse_code(text)
            if code is None or code >> 16 != 4:
                continue
            self.claim(refid, code, source, order, f"{source} unit columns")

    def read_vendor_terms(self):
        path = self.mdc / "rtm_vendor_terms.csv"
        self.inputs.append(path)
        for i, row in enumerate(read_csv(path)):
            refid = row["refid"].strip()
            self.read_unit_pairs([s for s in row["uom_mdc"].split(";") if s],
                                 [s for s in row["uom_cf_code"].split(";") if s], "rtm-vendor-uom", i)
            part, term, cf = row["partition"].strip(), row["term_code"].strip(), row["cf_code"].strip()
            if part == "null" or not cf:
                self.skipped["rtm_vendor_terms.csv: no code"] += 1
                continue
            p, t, c = parse_code(part), parse_code(term), parse_code(cf)
            if p is None or t is None or c is None or p * 65536 + t != c:
                self.skipped["rtm_vendor_terms.csv: partition/term/cf_code disagree"] += 1
                continue
            if p == 0:
                self.skipped["rtm_vendor_terms.csv: code has no partition (bare term code)"] += 1
                continue
            self.claim(refid, c, "rtm-vendor", i, "rtm_vendor_terms.csv", row["vendor"].strip())

    def read_antidote(self):
        path = self.mdc / "antidote_20601_nomenclature.csv"
        self.inputs.append(path)
        for i, row in enumerate(read_csv(path)):
            p, t, c = (parse_code(row[k]) for k in ("partition", "term_code", "cf_code"))
            if p is None or t is None or c is None or p * 65536 + t != c:
                self.skipped["antidote_20601_nomenclature.csv: partition/term/cf_code disagree"] += 1
                continue
            self.claim(row["refid"].strip(), c, "x73-20601", i, "antidote_20601_nomenclature.csv")

    def read_units(self):
        path = self.mdc / "rtm_units.csv"
        self.inputs.append(path)
        for i, row in enumerate(read_csv(path)):
            refid = row["uom_mdc"].strip()
            ucum = row["ucum"].strip()
            if refid.endswith("#"):
                # Export artefact: 'MDC_DIM_KG_PER_M_SQ#' / 'kg/m2#'. The 20601 list has
                # MDC_DIM_KG_PER_M_SQ with the same code, so the '#' is not part of the name.
                warn(f"rtm_units.csv: '{refid}' read as '{refid.rstrip('#')}' (export artefact)")
                refid = refid.rstrip("#")
                ucum = " ".join(tok.rstrip("#") for tok in ucum.split())
            code = parse_code(row["cf_code"]) if row["cf_code"].strip() else None
            if code is None:
                self.skipped["rtm_units.csv: no cf_code"] += 1
                continue
            term = parse_code(row["term_code"])
            if term is None or code != 4 * 65536 + term:
                self.skipped["rtm_units.csv: term_code/cf_code disagree"] += 1
                continue
            self.claim(refid, code, "rtm-units", i, "rtm_units.csv")
            self.unit_rows.append({"refid": refid, "code": code, "ucum": ucum})

    def read_philips(self):
        path = self.mdc / "philips_intellivue_nom_codes.csv"
        self.inputs.append(path)
        for row in read_csv(path):
            name = row["philips_nom_id"].strip()
            p, t, c = (parse_code(row[k]) for k in ("partition", "term_code", "cf_code"))
            if not NOM_RE.match(name) or p is None or t is None or c is None or p * 65536 + t != c:
                self.skipped["philips_intellivue_nom_codes.csv: invalid row"] += 1
                continue
            if name in self.vendor_aliases and self.vendor_aliases[name] != c:
                warn(f"philips: {name} has codes {self.vendor_aliases[name]} and {c}; keeping the first")
                continue
            self.vendor_aliases.setdefault(name, c)

    def add_ihe_codes(self):
        for i, (refid, code) in enumerate(sorted(IHE_ACM_CODES.items(), key=lambda kv: kv[1])):
            self.claim(refid, code, "ihe-pcd-tf2", i, "IHE PCD TF-2 Table B.8.5-1")

    # -- resolving -------------------------------------------------------------------------------

    def resolve(self):
        by_pair: dict[tuple[str, int], list[Claim]] = collections.defaultdict(list)
        for c in self.claims:
            by_pair[(c.refid, c.code)].append(c)
        codes_of: dict[str, set[int]] = collections.defaultdict(set)
        for refid, code in by_pair:
            codes_of[refid].add(code)

        def best_rank(refid: str, code: int) -> int:
            return min(SOURCE_RANK[c.source] for c in by_pair[(refid, code)])

        # 1. One preferred code per refid. Other codes of the same refid become alternative codes.
        preferred_code: dict[str, int] = {}
        alt_codes: dict[tuple[str, int], str] = {}  # (refid, code) -> source
        for refid, codes in sorted(codes_of.items()):
            ranked = sorted(codes, key=lambda c: (best_rank(refid, c), c))
            preferred_code[refid] = ranked[0]
            for other in ranked[1:]:
                alt_codes[(refid, other)] = "+".join(sorted({c.source for c in by_pair[(refid, other)]}))
                if refid not in IHE_ACM_CODES:
                    warn(f"conflict: {refid} has codes {sorted(codes)} across sources; preferred "
                         f"{ranked[0]} (most authoritative source), {other} kept as alternative code")

        # 2. hRTM synonym column: the two names are the same term. When only one of them has a code
        #    the other becomes its synonym; when both have codes they must agree.
        synonym_claims: dict[str, tuple[int, str]] = {}
        for refid, syn in self.hrtm_synonym_pairs:
            if not REFID_RE.match(syn) or not REFID_RE.match(refid):
                continue
            a, b = preferred_code.get(refid), preferred_code.get(syn)
            if a is not None and b is not None:
                if a != b:
                    warn(f"conflict: hRTM says {refid} ({a}) and {syn} ({b}) are synonyms; "
                         "codes differ, keeping each with its own code")
                continue
            if a is None and b is None:
                continue
            name, code = (syn, a) if a is not None else (refid, b)
            synonym_claims.setdefault(name, (code, "hrtm-synonym"))

        # 3. Unit naming rule: an MDC unit name with the SI-prefix placeholder X (MDC_DIM_X_G,
        #    MDC_DIM_PER_X_SEC) is also written without it when no prefix applies (MDC_DIM_G,
        #    MDC_DIM_PER_SEC); the RTM itself lists such short forms for ten units with the same
        #    code (MDC_DIM_G, MDC_DIM_L, MDC_DIM_LB, ...), and devices send them (264608^
        #    MDC_DIM_PER_SEC in the IHE PCD-01 example). We accept the short form as a synonym.
        #    When the short name already has another code (only MDC_DIM_SEC: 262829 in the RTM,
        #    unlike the RTM's other short forms, which share their X form's code) the X code
        #    becomes an alternative code of the short name, so 264320^MDC_DIM_SEC (sent by devices;
        #    Philips NOM_DIM_SEC is 264320 too) is consistent as well as 262829^MDC_DIM_SEC.
        for refid, code in sorted(preferred_code.items()):
            if not refid.startswith("MDC_DIM_") or "_X_" not in refid or code >> 16 != 4:
                continue
            if code in HOMONYM_UNIT_CODES:
                continue  # the code is ambiguous already; do not add more names to it
            short = "_".join(tok for tok in refid.split("_") if tok != "X")
            if short in preferred_code:
                if preferred_code[short] != code and (short, code) not in alt_codes:
                    alt_codes[(short, code)] = "derived-x-prefix"
                    warn(f"conflict: {short} is {preferred_code[short]} in the sources but is also "
                         f"the short form of {refid} ({code}); {code} kept as alternative code")
                continue
            synonym_claims.setdefault(short, (code, "derived-x-prefix"))

        # 4. One preferred refid per code; the other refids of that code become synonyms (or
        #    homonyms for HOMONYM_UNIT_CODES).
        vendors_of: dict[str, set[str]] = collections.defaultdict(set)
        first_order: dict[str, tuple[int, int]] = {}
        for c in self.claims:
            if c.vendor:
                vendors_of[c.refid].add(c.vendor)
        for (refid, code), cl in by_pair.items():
            if preferred_code[refid] != code:
                continue
            best = min(cl, key=lambda c: (SOURCE_RANK[c.source], c.order))
            first_order[refid] = (SOURCE_RANK[best.source], best.order)
        named_as_synonym = collections.defaultdict(set)  # refid -> refids whose hRTM row names it
        for refid, syn in self.hrtm_synonym_pairs:
            named_as_synonym[syn].add(refid)

        def preference(refid: str, rivals: list[str]):
            row = self.hrtm_rows.get(refid, {})
            return (
                first_order[refid][0],                      # most authoritative source
                bool(named_as_synonym[refid] & set(rivals)),  # a rival's hRTM row calls it its synonym
                not row.get("standard_table", "").strip(),  # listed in a 10101 table
                -len(vendors_of[refid]),                    # used by more vendors
                first_order[refid][1],                      # earlier in its source file
                refid,
            )

        refids_of_code: dict[int, list[str]] = collections.defaultdict(list)
        for refid, code in preferred_code.items():
            refids_of_code[code].append(refid)
        terms: dict[int, tuple[str, str]] = {}  # code -> (refid, sources)
        synonyms: list[tuple[str, int, str, str]] = []  # refid, code, kind, source
        for code, refids in sorted(refids_of_code.items()):
            rivals = list(refids)
            refids.sort(key=lambda r: preference(r, rivals))
            winner = refids[0]
            terms[code] = (winner, ",".join(sorted({c.source for c in by_pair[(winner, code)]})))
            for other in refids[1:]:
                kind = "homonym" if code in HOMONYM_UNIT_CODES else "synonym"
                src = "+".join(sorted({c.source for c in by_pair[(other, code)]}))
                synonyms.append((other, code, kind, src))
                warn(f"code {code}: preferred refid {winner}, {kind} {other} ({src})")
        for (refid, code), src in sorted(alt_codes.items()):
            if code not in terms:
                # No other refid claims this code: the alternative code still needs a term row so
                # the code is known; give it this refid.
                warn(f"alternative code {code} of {refid} has no refid of its own; listed as its term")
                terms[code] = (refid, src)
                continue
            synonyms.append((refid, code, "alt-code", src))
        for name, (code, src) in sorted(synonym_claims.items()):
            if name in preferred_code:
                continue
            if code not in terms:
                continue
            synonyms.append((name, code, "synonym", src))
        for name, code in sorted(self.vendor_aliases.items()):
            synonyms.append((name, code, "vendor-alias", "philips-nom"))

        self.terms = terms
        self.synonyms = sorted(set(synonyms), key=lambda s: (s[1], s[0], s[2]))
        self.preferred_code = preferred_code
        self.consistent = {(refid, code) for code, (refid, _) in terms.items()}
        self.consistent |= {(r, c) for r, c, k, _ in self.synonyms if k != "vendor-alias"}

    # -- units -----------------------------------------------------------------------------------

    @staticmethod
    def canonical_ucum(refid: str, listed: str) -> str:
        """The one UCUM code we emit for an MDC unit, from the RTM's space-separated list.

        Rule: the first code the RTM lists, except
          (a) 'DO_NOT_USE', empty lists and '{unknown}' (MDC_DIM_NOS: no unit was given) -> none;
          (b) tokens that are not UCUM syntax ('10^-9') are skipped;
          (c) an annotation-only token ('{unitless}') loses to a plain UCUM code of the same
              meaning ('1');
          (d) for the per-minute units of a counted thing (MDC_DIM_BEAT_PER_MIN, _PULS_PER_MIN,
              _RESP_PER_MIN) the token whose annotation names that thing in the singular wins
              ({beat}/min, {pulse}/min, {breath}/min): it keeps what the MDC unit says and is the
              same UCUM unit as /min (ucum_equivalents.tsv maps it where a profile needs /min).
        """
        if refid in UCUM_ERRATA:
            return UCUM_ERRATA[refid]
        tokens = [t for t in listed.split() if UCUM_TOKEN_RE.match(t) and "^" not in t]
        tokens = [t for t in tokens if t not in ("DO_NOT_USE", "{unknown}")]
        if not tokens:
            return ""
        counted = {"BEAT": "{beat}", "PULS": "{pulse}", "RESP": "{breath}"}
        m = re.fullmatch(r"MDC_DIM_(BEAT|PULS|RESP)_PER_MIN", refid)
        if m:
            wanted = counted[m.group(1)] + "/min"
            if wanted in tokens:
                return wanted
        first = tokens[0]
        if re.fullmatch(r"\{[^}]*\}", first):
            plain = [t for t in tokens if "{" not in t]
            if plain:
                return plain[0]
        return first

    def build_units(self):
        rows: dict[int, dict] = {}
        for u in self.unit_rows:
            code = u["code"]
            preferred = self.terms[code][0]
            # Use the RTM row of the preferred refid when the RTM has several rows for the code.
            if code in rows and rows[code]["refid"] == preferred:
                continue
            if code in rows and u["refid"] != preferred:
                continue
            ucum = "" if code in HOMONYM_UNIT_CODES else self.canonical_ucum(u["refid"], u["ucum"])
            rows[code] = {"refid": preferred, "ucum": ucum}
        by_ucum = collections.defaultdict(list)
        for code, r in rows.items():
            if r["ucum"]:
                by_ucum[r["ucum"]].append(code)
        for ucum, codes in sorted(by_ucum.items()):
            if len(codes) > 1:
                names = ", ".join(f"{c} {rows[c]['refid']}" for c in sorted(codes))
                warn(f"UCUM '{ucum}' is the unit of several MDC codes: {names}")
        self.units = rows

    # -- vital signs -----------------------------------------------------------------------------

    def read_profile(self, name: str) -> tuple[str, list[str], dict[str, str]]:
        """(url, allowed value units, fixed LOINC per slice path) of an R4 vital-signs profile."""
        path = self.fhir / f"StructureDefinition-{name}.json"
        self.inputs.append(path)
        sd = json.loads(path.read_text(encoding="utf-8"))
        units: list[str] = []
        loinc: dict[str, str] = {}
        for el in sd["differential"]["element"]:
            eid = el["id"]
            if eid.endswith(".code") and "fixedCode" in el and ".coding:" in eid:
                loinc[eid] = el["fixedCode"]
            if eid.endswith("valueQuantity.code"):
                if "fixedCode" in el:
                    if el["fixedCode"] not in units:
                        units.append(el["fixedCode"])
                elif "binding" in el:
                    vs_url = el["binding"]["valueSet"].split("|")[0]
                    units += [u for u in self.value_set_codes(vs_url) if u not in units]
        return sd["url"], units, loinc

    def value_set_codes(self, url: str) -> list[str]:
        name = url.rsplit("/", 1)[1]
        path = self.fhir / f"ValueSet-{name}.json"
        self.inputs.append(path)
        vs = json.loads(path.read_text(encoding="utf-8"))
        return [c["code"] for inc in vs["compose"]["include"] for c in inc.get("concept", [])]

    def build_vitals(self):
        path = self.mdc / "mdc_vitals_quickref.csv"
        self.inputs.append(path)
        profiles = {}
        for pid in sorted({p for p, _ in LOINC_PROFILE.values()}):
            profiles[pid] = self.read_profile(pid)
        bp_url, bp_units, bp_loinc = profiles["bp"]
        # The bp profile fixes the component codes and their unit; the mean has no LOINC in the R4
        # vital-signs set, and its component value is bound to ucum-vitals-common (required), of
        # which only mm[Hg] is a pressure unit.
        component_units = ["mm[Hg]"]
        if "85354-9" not in bp_loinc.values() or "8480-6" not in bp_loinc.values() \
                or "8462-4" not in bp_loinc.values():
            raise SystemExit("bp profile: fixed LOINC codes not found")

        vitals: dict[int, dict] = {}
        for row in read_csv(path):
            refid = row["refid"].strip()
            code = parse_code(row["cf_code"]) if row["cf_code"].strip() else None
            found = list(dict.fromkeys(LOINC_RE.findall(row["fhir_vitalsigns_loinc"])))
            if code is None:
                if found:
                    warn(f"mdc_vitals_quickref.csv: {refid} has LOINC {found[0]} but no MDC code; skipped")
                continue
            family_panel = BP_FAMILY_PANEL.get(code)
            for panel, parts in BP_FAMILIES.items():
                if code in parts:
                    family_panel = panel
            is_mean = any(code == parts[2] for parts in BP_FAMILIES.values()) or code == 150303
            if not found and not is_mean:
                continue  # not a FHIR vital sign
            if (refid, code) not in self.consistent:
                raise SystemExit(f"mdc_vitals_quickref.csv: {code} {refid} is not a known MDC pair")
            refid = self.terms[code][0]
            if is_mean:
                loinc, role, pid = "", "bp-mean", "bp"
                units = component_units
            else:
                loinc = found[0]
                pid, role = LOINC_PROFILE[loinc]
                url, units, fixed = profiles[pid]
                if pid == "bp":
                    units = [] if role == "panel" else component_units
                elif loinc not in fixed.values():
                    raise SystemExit(f"profile {pid} does not fix LOINC {loinc}")
            extra = found[1] if len(found) > 1 else ""
            vitals[code] = {
                "refid": refid, "loinc": loinc, "display": LOINC_DISPLAY.get(loinc, ""),
                "extra": extra, "extra_display": LOINC_DISPLAY.get(extra, "") if extra else "",
                "url": FHIR_SD + pid, "units": units, "role": role,
                "panel": family_panel if role.startswith("bp-") else None,
            }
        for code in EXTRA_PANELS:
            vitals[code] = {
                "refid": self.terms[code][0], "loinc": "85354-9",
                "display": LOINC_DISPLAY["85354-9"], "extra": "", "extra_display": "",
                "url": bp_url, "units": [], "role": "panel", "panel": None,
            }
        for code, v in vitals.items():
            if v["role"].startswith("bp-") and v["panel"] not in vitals:
                raise SystemExit(f"vital sign {code}: panel {v['panel']} missing")
            if v["loinc"] and not v["display"]:
                raise SystemExit(f"no display for LOINC {v['loinc']}")
        self.vitals = vitals

    # -- output ----------------------------------------------------------------------------------

    def provenance(self) -> list[str]:
        lines = []
        for p in sorted(set(self.inputs)):
            digest = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
            rel = p.relative_to(self.shared)
            lines.append(f"#   shared/{rel} (sha256 {digest}...)")
        return lines

    def render(self) -> dict[str, str]:
        gen = ["# Generated by scripts/build-terminology.py; do not edit by hand (see docs/terminology.md).",
               "# Format: UTF-8, one row per line, tab-separated, '#' lines are comments."]
        src = ["# Inputs (facts only: codes, reference ids, units, LOINC codes); upstream of the MDC CSVs:",
               "#   NIST hRTM/RTM rosetta exports (sll-mdilab/t5-commons@bb052cba), IEEE 20601 nomenclature",
               "#   (signove/antidote@dbb27422 nomenclature.h), Philips NOM lists (mdpnp/mdpnp@1ae7f72a);",
               "#   FHIR R4 core vital-signs profiles (hl7.org/fhir/R4):"] + self.provenance()
        out = {}

        rows = [f"{code}\t{refid}\t{code >> 16}\t{code & 0xFFFF}\t{sources}"
                for code, (refid, sources) in sorted(self.terms.items())]
        out["mdc_terms.tsv"] = lines_of(
            gen + [
                "# MDC (ISO/IEEE 11073-10101) terms with a context-free code: the preferred reference id of",
                "# every code. cf_code = partition * 65536 + term_code. Other names for a code, and other",
                "# codes for a name, are in mdc_synonyms.tsv.",
                "# sources: where the pair comes from: hrtm = NIST hRTM harmonized rosetta; rtm-units /",
                "#   rtm-vendor = RTM unit list / vendor Rosetta rows; hrtm-uom / rtm-vendor-uom = the unit",
                "#   columns of those term rows; x73-20601 = IEEE 11073-20601 / 104xx nomenclature (Antidote",
                "#   list); ihe-pcd-tf2 = IHE PCD TF-2 Rev 9.0 Table B.8.5-1.",
                "# Preferred refid of a code: the most authoritative source (ihe-pcd-tf2 > hrtm > x73-20601",
                "#   > rtm-units > rtm-vendor > *-uom), then the name no rival's hRTM row calls its synonym,",
                "#   then the name in a 10101 table, then the name more vendors use, then source order.",
                "# Rows with no code, or a code below 65536 (a term code without partition), are left out.",
            ] + src + ["#cf_code\trefid\tpartition\tterm_code\tsources"], rows)

        rows = [f"{refid}\t{code}\t{kind}\t{source}" for refid, code, kind, source in self.synonyms]
        out["mdc_synonyms.tsv"] = lines_of(
            gen + [
                "# Further names of MDC codes and further codes of MDC names. A (refid, cf_code) pair of",
                "# kind synonym, homonym or alt-code is as valid as the pair in mdc_terms.tsv.",
                "# kind: synonym      another MDC reference id of the same term (hRTM synonym column, several",
                "#                    names for one code across sources, unit names without the X prefix",
                "#                    placeholder: MDC_DIM_PER_X_SEC -> MDC_DIM_PER_SEC);",
                "#       homonym      a reference id that another source gives to the same code with a",
                "#                    different meaning (IEEE 20601 vs RTM unit codes 268832..268960);",
                "#       alt-code     a second code of a reference id whose preferred code is in",
                "#                    mdc_terms.tsv (ACM attributes: IHE PCD TF-2 68480.. vs hRTM 68164..);",
                "#       vendor-alias NOT an MDC reference id: Philips IntelliVue NOM_ name of the code.",
                "# source: as in mdc_terms.tsv; hrtm-synonym = hRTM synonym column; derived-x-prefix = unit",
                "#   name without X; philips-nom = Philips Data Export nomenclature (mdpnp ObservedValue/",
                "#   UnitCode lists).",
            ] + src + ["#refid\tcf_code\tkind\tsource"], rows)

        rows = [f"{code}\t{u['refid']}\t{u['ucum']}" for code, u in sorted(self.units.items())]
        out["mdc_units.tsv"] = lines_of(
            gen + [
                "# MDC unit code (partition 4) -> the ONE UCUM code fhirbridge emits. Empty ucum: the MDC unit",
                "# has no UCUM code we can emit (unit not specified, DO_NOT_USE, time-of-day/date, or a code",
                "# two sources give to different units: 268832, 268864, 268896, 268928, 268960).",
                "# Rule for the UCUM code (the RTM lists several spellings): the first one the RTM lists, except",
                "#   an annotation-only code ({unitless}) loses to the plain code of the same meaning (1), and",
                "#   the per-minute units of a counted thing keep their annotation in the singular",
                "#   (MDC_DIM_BEAT_PER_MIN {beat}/min, _PULS_PER_MIN {pulse}/min, _RESP_PER_MIN {breath}/min);",
                "#   ucum_equivalents.tsv maps those to /min where a FHIR profile requires it.",
                "# Errata fixed: MDC_DIM_X_AMPS 'a' (annum) -> 'A'; MDC_DIM_X_EQUIV_PER_CM_CUBE 'mol/cm3' ->",
                "#   'eq/cm3'; MDC_DIM_KG_PER_M_SQ# -> MDC_DIM_KG_PER_M_SQ.",
            ] + src + ["#cf_code\trefid\tucum"], rows)

        rows = []
        for code, v in sorted(self.vitals.items()):
            rows.append("\t".join([str(code), v["refid"], v["loinc"], v["display"], v["extra"],
                                   v["extra_display"], v["url"], ",".join(v["units"]), v["role"],
                                   str(v["panel"]) if v["panel"] else ""]))
        out["vital_signs.tsv"] = lines_of(
            gen + [
                "# MDC code -> FHIR R4 vital sign (LOINC code and profile). Source of the pairs: the MDC vital",
                "# signs quick reference (codes from hRTM, LOINC from the FHIR R4 vital-signs value set); units",
                "# and fixed codes from the R4 profiles (StructureDefinition-<profile>.json and their ValueSets).",
                "# loinc: the code the profile fixes (empty for a blood-pressure mean: the R4 vital-signs set",
                "#   has none; it goes into the bp Observation as an MDC-coded component).",
                "# extra_loinc: a further, more specific LOINC coding (pulse oximetry 59408-5).",
                "# ucum_units: the UCUM codes the profile allows, first = the one to prefer; empty for a panel.",
                "# role: single | panel | bp-systolic | bp-diastolic | bp-mean.",
                "# panel_code: for bp-* rows, the MDC code of the bp panel the value belongs in",
                "#   (non-invasive and cuff families -> 150020 MDC_PRESS_BLD_NONINV; arterial -> 150032).",
            ] + src + ["#mdc_cf_code\tmdc_refid\tloinc\tloinc_display\textra_loinc\textra_loinc_display"
                       "\tprofile_url\tucum_units\trole\tpanel_code"], rows)

        rows = [f"{a}\t{b}" for a, b, _ in sorted(UCUM_EQUIVALENTS)]
        notes = [f"#   {a} -> {b}: {n}" for a, b, n in sorted(UCUM_EQUIVALENTS)]
        out["ucum_equivalents.tsv"] = lines_of(
            gen + [
                "# Unit spellings that denote the SAME unit as to_ucum with factor 1, so a value may be",
                "# labelled with to_ucum (e.g. to meet a vital-signs profile) without changing the number.",
                "# Nothing here needs a conversion factor. Some from_ucum spellings are not valid UCUM",
                "# ('mmHg': UCUM writes mm[Hg]; 'degC'; 'percent') but devices send them.",
            ] + notes + ["#from_ucum\tto_ucum"], rows)
        return out


def lines_of(header: list[str], rows: list[str]) -> str:
    return "\n".join(header + rows) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_shared = os.environ.get("FHIRBRIDGE_SHARED_DIR", str(REPO.parent / "shared"))
    ap.add_argument("--shared", default=default_shared, help="the shared folder (has data/mdc)")
    ap.add_argument("--out", default=str(OUT_DIR), help="where to write the .tsv files")
    ap.add_argument("--check", action="store_true", help="compare with the files in --out; write nothing")
    ap.add_argument("--quiet", action="store_true", help="no per-decision messages on stderr")
    args = ap.parse_args()
    if args.quiet:
        global warn
        warn = lambda msg: None  # noqa: E731

    b = Builder(pathlib.Path(args.shared).resolve())
    b.read_hrtm()
    b.read_vendor_terms()
    b.read_antidote()
    b.read_units()
    b.read_philips()
    b.add_ihe_codes()
    b.resolve()
    b.build_units()
    b.build_vitals()
    for reason, n in sorted(b.skipped.items()):
        warn(f"skipped {n} row(s): {reason}")
    tables = b.render()

    out = pathlib.Path(args.out)
    stale = []
    for name, text in sorted(tables.items()):
        path = out / name
        old = path.read_bytes() if path.exists() else None
        if old != text.encode("utf-8"):
            stale.append(name)
            if not args.check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(text.encode("utf-8"))
        rows = sum(1 for line in io.StringIO(text) if not line.startswith("#"))
        print(f"{name}: {rows} rows{' (changed)' if name in stale else ''}")
    if args.check and stale:
        print(f"stale: {', '.join(stale)}; run scripts/build-terminology.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
