"""Resolve a Salesforce ``MailingCountry`` (or ``MailingCountryCode``) to a phone region (ISO 3166 alpha-2).

Accepted: alpha-2 (``GB``), alpha-3 (``GBR``), English and local names from libphonenumber's locale data
(``United Kingdom``, ``Deutschland``, ``Allemagne``) and common aliases (``UK``, ``U.S.A.``, ``Holland``).
Lookups are case-, accent- and punctuation-insensitive and cached.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from contact_sync.text import clean_text

__all__ = ["resolve_region", "supported_regions"]

# ISO 3166-1 alpha-3 → alpha-2.
_ALPHA3 = dict(
    pair.split(":")
    for pair in """
AFG:AF ALA:AX ALB:AL DZA:DZ ASM:AS AND:AD AGO:AO AIA:AI ATA:AQ ATG:AG ARG:AR ARM:AM ABW:AW AUS:AU AUT:AT
AZE:AZ BHS:BS BHR:BH BGD:BD BRB:BB BLR:BY BEL:BE BLZ:BZ BEN:BJ BMU:BM BTN:BT BOL:BO BES:BQ BIH:BA BWA:BW
BVT:BV BRA:BR IOT:IO BRN:BN BGR:BG BFA:BF BDI:BI CPV:CV KHM:KH CMR:CM CAN:CA CYM:KY CAF:CF TCD:TD CHL:CL
CHN:CN CXR:CX CCK:CC COL:CO COM:KM COG:CG COD:CD COK:CK CRI:CR CIV:CI HRV:HR CUB:CU CUW:CW CYP:CY CZE:CZ
DNK:DK DJI:DJ DMA:DM DOM:DO ECU:EC EGY:EG SLV:SV GNQ:GQ ERI:ER EST:EE SWZ:SZ ETH:ET FLK:FK FRO:FO FJI:FJ
FIN:FI FRA:FR GUF:GF PYF:PF ATF:TF GAB:GA GMB:GM GEO:GE DEU:DE GHA:GH GIB:GI GRC:GR GRL:GL GRD:GD GLP:GP
GUM:GU GTM:GT GGY:GG GIN:GN GNB:GW GUY:GY HTI:HT HMD:HM VAT:VA HND:HN HKG:HK HUN:HU ISL:IS IND:IN IDN:ID
IRN:IR IRQ:IQ IRL:IE IMN:IM ISR:IL ITA:IT JAM:JM JPN:JP JEY:JE JOR:JO KAZ:KZ KEN:KE KIR:KI PRK:KP KOR:KR
KWT:KW KGZ:KG LAO:LA LVA:LV LBN:LB LSO:LS LBR:LR LBY:LY LIE:LI LTU:LT LUX:LU MAC:MO MDG:MG MWI:MW MYS:MY
MDV:MV MLI:ML MLT:MT MHL:MH MTQ:MQ MRT:MR MUS:MU MYT:YT MEX:MX FSM:FM MDA:MD MCO:MC MNG:MN MNE:ME MSR:MS
MAR:MA MOZ:MZ MMR:MM NAM:NA NRU:NR NPL:NP NLD:NL NCL:NC NZL:NZ NIC:NI NER:NE NGA:NG NIU:NU NFK:NF MKD:MK
MNP:MP NOR:NO OMN:OM PAK:PK PLW:PW PSE:PS PAN:PA PNG:PG PRY:PY PER:PE PHL:PH PCN:PN POL:PL PRT:PT PRI:PR
QAT:QA REU:RE ROU:RO RUS:RU RWA:RW BLM:BL SHN:SH KNA:KN LCA:LC MAF:MF SPM:PM VCT:VC WSM:WS SMR:SM STP:ST
SAU:SA SEN:SN SRB:RS SYC:SC SLE:SL SGP:SG SXM:SX SVK:SK SVN:SI SLB:SB SOM:SO ZAF:ZA SGS:GS SSD:SS ESP:ES
LKA:LK SDN:SD SUR:SR SJM:SJ SWE:SE CHE:CH SYR:SY TWN:TW TJK:TJ TZA:TZ THA:TH TLS:TL TGO:TG TKL:TK TON:TO
TTO:TT TUN:TN TUR:TR TKM:TM TCA:TC TUV:TV UGA:UG UKR:UA ARE:AE GBR:GB USA:US UMI:UM URY:UY UZB:UZ VUT:VU
VEN:VE VNM:VN VGB:VG VIR:VI WLF:WF ESH:EH YEM:YE ZMB:ZM ZWE:ZW XKX:XK
""".split()
)

# Common names and spellings not in libphonenumber's locale data (keys are already folded, see _fold).
_ALIASES = {
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "united kingdom of great britain and northern ireland": "GB",
    "us": "US",
    "usa": "US",
    "u s": "US",
    "u s a": "US",
    "america": "US",
    "united states of america": "US",
    "the united states": "US",
    "estados unidos": "US",
    "etats unis": "US",
    "vereinigte staaten": "US",
    "holland": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "danmark": "DK",
    "norge": "NO",
    "noreg": "NO",
    "sverige": "SE",
    "suomi": "FI",
    "island": "IS",
    "eesti": "EE",
    "latvija": "LV",
    "lietuva": "LT",
    "osterreich": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "switzerland": "CH",
    "belgie": "BE",
    "belgique": "BE",
    "belgien": "BE",
    "espana": "ES",
    "italia": "IT",
    "ellada": "GR",
    "hellas": "GR",
    "turkiye": "TR",
    "turkey": "TR",
    "cesko": "CZ",
    "czechia": "CZ",
    "czech republic": "CZ",
    "slovensko": "SK",
    "magyarorszag": "HU",
    "polska": "PL",
    "romania": "RO",
    "bulgaria": "BG",
    "hrvatska": "HR",
    "srbija": "RS",
    "slovenija": "SI",
    "ireland": "IE",
    "eire": "IE",
    "republic of ireland": "IE",
    "russia": "RU",
    "russian federation": "RU",
    "rossiya": "RU",
    "ukraina": "UA",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "north korea": "KP",
    "uae": "AE",
    "u a e": "AE",
    "emirates": "AE",
    "viet nam": "VN",
    "vietnam": "VN",
    "nippon": "JP",
    "nihon": "JP",
    "zhongguo": "CN",
    "prc": "CN",
    "hong kong sar": "HK",
    "macau": "MO",
    "taiwan": "TW",
    "bharat": "IN",
    "brasil": "BR",
    "mexico": "MX",
    "peru": "PE",
    "deutschland": "DE",
    "brd": "DE",
    "ivory coast": "CI",
    "cote d ivoire": "CI",
    "south africa": "ZA",
    "rsa": "ZA",
    "new zealand": "NZ",
    "aotearoa": "NZ",
    "philippines": "PH",
    "pilipinas": "PH",
    "malaysia": "MY",
    "singapore": "SG",
    "indonesia": "ID",
    "saudi arabia": "SA",
    "ksa": "SA",
    "egypt": "EG",
    "misr": "EG",
    "iran": "IR",
    "syria": "SY",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "macedonia": "MK",
    "north macedonia": "MK",
    "bosnia": "BA",
    "bosnia and herzegovina": "BA",
    "dr congo": "CD",
    "drc": "CD",
    "democratic republic of the congo": "CD",
    "congo": "CG",
    "republic of the congo": "CG",
    "cape verde": "CV",
    "cabo verde": "CV",
    "swaziland": "SZ",
    "eswatini": "SZ",
    "burma": "MM",
    "myanmar": "MM",
    "kosovo": "XK",
    "vatican": "VA",
    "holy see": "VA",
    "palestine": "PS",
    "micronesia": "FM",
    "st lucia": "LC",
    "saint lucia": "LC",
    "st kitts and nevis": "KN",
    "trinidad": "TT",
    "trinidad and tobago": "TT",
}

_PUNCT = re.compile(r"[^\w]+")


def _fold(text: str) -> str:
    """Case-fold, drop accents and punctuation, collapse spaces, drop a leading "the"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = _PUNCT.sub(" ", stripped).replace("_", " ").strip()
    return folded[4:] if folded.startswith("the ") and folded not in _ALIASES else folded


@functools.cache
def supported_regions() -> frozenset[str]:
    """Regions libphonenumber has metadata for (the only ones a phone region can be)."""
    import phonenumbers

    return frozenset(phonenumbers.SUPPORTED_REGIONS)


@functools.cache
def _name_table() -> dict[str, str]:
    from phonenumbers.geodata.locale import LOCALE_DATA

    table: dict[str, str] = {}
    for region, names in LOCALE_DATA.items():
        for name in names.values():
            if not name.startswith("*"):
                table.setdefault(_fold(name), region)
    for alias, region in _ALIASES.items():
        table[alias] = region
    return table


@functools.lru_cache(maxsize=4096)
def resolve_region(country: object) -> str | None:
    """Return the ISO alpha-2 region for a country value, or ``None`` when blank or unknown.

    Only regions that libphonenumber supports are returned (``"AQ"`` for Antarctica resolves to ``None``).

    :param country: ``MailingCountry``/``MailingCountryCode`` as stored, or a region code the caller knows.
    :return: an upper-case alpha-2 code such as ``"GB"``, or ``None``.
    """
    if country is not None and not isinstance(country, str):
        return None
    text = clean_text(country)
    if not text:
        return None
    regions = supported_regions()
    upper = text.upper()
    if len(upper) == 2 and upper in regions:
        return upper
    if len(upper) == 3 and upper in _ALPHA3:
        region = _ALPHA3[upper]
        return region if region in regions else None
    folded = _fold(text)
    region = _name_table().get(folded)
    if region is None:
        squeezed = folded.replace(" ", "").upper()  # dotted or spaced codes: "G.B.", "D E", "G.B.R."
        region = squeezed if len(squeezed) == 2 else _ALPHA3.get(squeezed) if len(squeezed) == 3 else None
    return region if region in regions else None
