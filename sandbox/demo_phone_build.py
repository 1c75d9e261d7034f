"""Build the frozen phone-number table used by :mod:`sandbox.demo_data` (run by hand, not at import time).

``python -m sandbox.demo_phone_build > sandbox/demo_phone_stems.py`` regenerates the table (then run
``ruff format`` on it).

For every demo country and for the kinds ``fixed`` and ``mobile`` it searches number *stems* (the national
significant number without its last ``FREE_DIGITS`` digits) for which ``phonenumbers`` says every completion
is a valid number of that kind, and records the international and national formatting templates (``#`` = one
digit of the national significant number). The table is frozen in source so the generator's output does not
depend on the installed ``phonenumbers`` metadata; the tests re-check validity against the installed version.
"""

from __future__ import annotations

import random
import sys

import phonenumbers as pn

FREE_DIGITS = 4
STEMS_PER_KIND = 24
SAMPLES_PER_STEM = 12
REGIONS = (
    "US",
    "GB",
    "DE",
    "FR",
    "IN",
    "BR",
    "MX",
    "MY",
    "SG",
    "AU",
    "JP",
    "NG",
    "ZA",
    "ES",
    "IT",
    "NL",
    "AE",
    "PH",
    "RU",
    "GR",
    "IL",
    "TH",
    "KR",
    "CN",
    "EG",
)
# NANP: use the fictional 555 exchange in real area codes (valid per libphonenumber).
US_AREA_CODES = (
    "201",
    "202",
    "203",
    "205",
    "206",
    "212",
    "213",
    "214",
    "215",
    "216",
    "217",
    "218",
    "301",
    "302",
    "303",
    "304",
    "305",
    "307",
    "308",
    "309",
    "310",
    "312",
    "313",
    "314",
    "315",
    "316",
    "317",
    "318",
    "319",
    "320",
    "401",
    "402",
    "404",
    "405",
    "406",
    "407",
    "408",
    "409",
    "410",
    "412",
    "413",
    "414",
    "415",
    "417",
    "419",
    "501",
    "502",
    "503",
    "504",
    "505",
    "507",
    "508",
    "509",
    "510",
    "512",
    "513",
    "515",
    "516",
    "517",
    "518",
)
KIND_TYPES = {
    "fixed": {pn.PhoneNumberType.FIXED_LINE, pn.PhoneNumberType.FIXED_LINE_OR_MOBILE},
    "mobile": {pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE_OR_MOBILE},
}
EXAMPLE_TYPE = {"fixed": pn.PhoneNumberType.FIXED_LINE, "mobile": pn.PhoneNumberType.MOBILE}


def _template(formatted: str, nsn: str) -> str | None:
    """Replace the last ``len(nsn)`` digits of ``formatted`` by ``#``; ``None`` if they are not ``nsn``."""
    chars = list(formatted)
    positions = [i for i, ch in enumerate(chars) if ch.isdigit()]
    if len(positions) < len(nsn):
        return None
    tail = positions[-len(nsn) :]
    if "".join(chars[i] for i in tail) != nsn:
        return None
    for i in tail:
        chars[i] = "#"
    return "".join(chars)


def _fill(template: str, nsn: str) -> str:
    digits = iter(nsn)
    return "".join(next(digits) if ch == "#" else ch for ch in template)


def _check_stem(region: str, kind: str, stem: str, rng: random.Random) -> tuple[str, str] | None:
    """Return (international, national) templates if every sampled completion of ``stem`` is valid."""
    templates: tuple[str, str] | None = None
    for _ in range(SAMPLES_PER_STEM):
        nsn = stem + "".join(rng.choice("0123456789") for _ in range(FREE_DIGITS))
        try:
            number = pn.parse(nsn, region)
        except pn.NumberParseException:
            return None
        if not pn.is_valid_number_for_region(number, region):
            return None
        if pn.number_type(number) not in KIND_TYPES[kind] or pn.national_significant_number(number) != nsn:
            return None
        intl = _template(pn.format_number(number, pn.PhoneNumberFormat.INTERNATIONAL), nsn)
        natl = _template(pn.format_number(number, pn.PhoneNumberFormat.NATIONAL), nsn)
        if intl is None or natl is None or (templates is not None and templates != (intl, natl)):
            return None
        templates = (intl, natl)
    return templates


def _candidates(region: str, kind: str, rng: random.Random) -> list[str]:
    if region == "US":
        codes = US_AREA_CODES[0::2] if kind == "fixed" else US_AREA_CODES[1::2]
        return [code + "555" for code in codes]
    example = pn.example_number_for_type(region, EXAMPLE_TYPE[kind])
    if example is None:
        return []
    nsn = pn.national_significant_number(example)
    stem_len = len(nsn) - FREE_DIGITS
    keep = min(2 if stem_len > 3 else 1, stem_len)
    out = [nsn[:stem_len]]
    for _ in range(3000):
        out.append(nsn[:keep] + "".join(rng.choice("0123456789") for _ in range(stem_len - keep)))
    return out


def build() -> dict[str, dict[str, list[tuple[str, str, str]]]]:
    """Return ``{region: {kind: [(stem, intl_template, natl_template), ...]}}``."""
    rng = random.Random("demo-phone-stems-v1")
    table: dict[str, dict[str, list[tuple[str, str, str]]]] = {}
    for region in REGIONS:
        seen: set[str] = set()
        table[region] = {}
        for kind in ("fixed", "mobile"):
            found: list[tuple[str, str, str]] = []
            for stem in _candidates(region, kind, rng):
                if stem in seen:
                    continue
                templates = _check_stem(region, kind, stem, rng)
                if templates is not None:
                    seen.add(stem)
                    found.append((stem, *templates))
                    if len(found) >= STEMS_PER_KIND:
                        break
            table[region][kind] = found
    return table


def main() -> None:
    table = build()
    out = sys.stdout
    out.write('"""Frozen phone stems for the demo generator (``python -m sandbox.demo_phone_build``).\n\n')
    out.write("``STEMS[region][kind]`` lists ``(stem, international_template, national_template)``.\n")
    out.write(
        f"A stem plus {FREE_DIGITS} free digits is a national significant number; ``#`` is one digit.\n"
    )
    out.write('"""\n\nfrom __future__ import annotations\n\n')
    out.write(f"FREE_DIGITS = {FREE_DIGITS}\n\n")
    out.write("STEMS: dict[str, dict[str, tuple[tuple[str, str, str], ...]]] = {\n")
    for region, kinds in table.items():
        out.write(f"    {region!r}: {{\n")
        for kind, stems in kinds.items():
            out.write(f"        {kind!r}: (\n")
            for stem in stems:
                out.write(f"            {stem!r},\n")
            out.write("        ),\n")
        out.write("    },\n")
    out.write("}\n")
    for region, kinds in table.items():
        for kind, stems in kinds.items():
            if len(stems) < STEMS_PER_KIND:
                sys.stderr.write(f"{region} {kind}: only {len(stems)} stems\n")


if __name__ == "__main__":
    main()
