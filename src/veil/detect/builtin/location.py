"""Street addresses (US and UK formats), PO boxes, and postcodes/ZIP codes in address context."""

from __future__ import annotations

from veil.detect.recognizer import Pattern, PatternRecognizer

# Suffixes that are hardly ever ordinary words: matched in any case ("8 wressle road").
_SUFFIX = (
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|place|pl|square|sq"
    r"|terrace|ter|parkway|pkwy|highway|hwy|circle|cir|crescent|cres|expressway|expy|freeway|fwy|way"
    r"|close|mews|broadway)"
)
# Suffixes that are also common English words: only in Title Case ("12 Rotten Row", not "at 2 we row").
_WORD_SUFFIX = (
    r"(?:Row|Walk|Park|View|Run|Path|Loop|Green|Gate|Hill|Ridge|Landing|Hollow|Vista|Heights|Hts|Wharf|Quay"
    r"|Grove|Gardens|Plaza|Plz|Crossing|Xing|Alley|Aly|Trail|Trl|Pike|Embankment)"
)
# Continental order: street word + name + house number ("Via Roma 10", "ul. Marszałkowska 12", "Rue de
# Rivoli 99") or a compound ending in a street word + number ("Hauptstraße 5", "Drottninggatan 3").
_EU_PREFIX = (
    r"(?:rue|rua|viale|vicolo|piazza|corso|calle|avenida|avda\.|paseo|carrer|travessa"
    r"|ulica|ul\.|aleja|utca|strada|bulevardul|str\.|odos|leoforos)"
)
# Prefixes that are also English words or abbreviations ("via", "plaza", "al."): only before a capitalized name.
_EU_PREFIX_TITLE = r"(?:[Vv]ia|VIA|[Pp]laza|PLAZA|[Ll]argo|[Aa]v\.|[Aa]l\.)"
_EU_TITLE_NAME = r"(?:[ \t]{1,3}(?:d[aeiou]s?|de[l]?|la|le|di)?[ \t]{0,3}[A-ZÀ-Ý][\w'.\-]{0,40}){1,4}"
# Capitalized as these languages write street names; "ring" is left out ("during 3", "wearing 3l").
_EU_COMPOUND = (
    r"[A-ZÀ-ÝÄÖÜ][\w\-]{0,40}(?i:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|damm|ufer|chaussee|gatan|gata|vägen"
    r"|vej|vei|veien|gade|katu|tie|kuja|laan|straat|plein|gracht|kade|utca|ulica)"
)
_EU_NAME = r"(?:[ \t]{1,3}(?:d[aeiou]s?|de[l]?|la|le|les|di|van|von|der)?[ \t]{0,3}[^\W\d_][\w'.\-]{0,40}){1,4}"
_NOT_FILLER = r"(?!(?:the|a|an|of|to|and|or|in|on|at|for|from|by|with|down|up|my|your|his|her|our|their|is|was)\b)"
_NAME_WORD = rf"{_NOT_FILLER}[A-Za-z0-9][A-Za-z0-9'.\-]{{0,40}}"
_TITLE_WORD = r"(?:[A-Z][A-Za-z'.\-]{0,40}|\d{1,4}(?:st|nd|rd|th))"
_UNIT = r"(?:,?[ \t]{0,3}(?:apt|apartment|suite|ste|unit|flat|fl|floor|room|rm|#)\.?[ \t]{0,3}#?[A-Za-z0-9\-]{1,6})"
_STATES = (
    r"(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY"
    r"|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|GU|VI)"
)
_UK_POSTCODE = r"(?:GIR ?0AA|[A-PR-UWYZ](?:\d[A-HJKPSTUW\d]?|[A-HK-Y]\d[ABEHMNPRVWXY\d]?) ?\d[ABD-HJLNP-UW-Z]{2})"
_CITY_TAIL = (
    rf"(?:,?[ \t]{{1,3}}[A-Z][A-Za-z.'\-]{{1,40}}(?:[ \t][A-Z][A-Za-z.'\-]{{1,40}}){{0,2}},?[ \t]{{1,3}}{_STATES}"
    r"[ \t]{1,3}\d{5}(?:-\d{4})?)"
)

STREET_ADDRESS = PatternRecognizer(
    name="street_address",
    entity="STREET_ADDRESS",
    patterns=(
        Pattern(
            "us_uk_street",
            rf"(?<![\w\-.])\d{{1,6}}(?:-\d{{1,4}})?[A-Za-z]?,?[ \t]{{1,3}}(?:{_NAME_WORD}[ \t]{{1,3}}){{1,3}}{_SUFFIX}\.?"
            rf"(?![\w']){_UNIT}?(?:{_CITY_TAIL})?",
            0.5,
            flags=("IGNORECASE",),
        ),
        Pattern(
            "us_uk_street_titlecase",
            rf"(?<![\w\-.])\d{{1,6}}(?:-\d{{1,4}})?[A-Za-z]?,?[ \t]{{1,3}}(?:{_TITLE_WORD}[ \t]{{1,3}}){{1,3}}{_WORD_SUFFIX}"
            rf"(?![\w']){_UNIT}?(?:{_CITY_TAIL})?",
            0.5,
        ),
        Pattern("eu_street", rf"(?<![\w\-]){_EU_PREFIX}{_EU_NAME}[ \t]{{0,3}},?[ \t]{{1,3}}\d{{1,4}}[a-zA-Z]?(?![\w\-])", 0.5,
                flags=("IGNORECASE",)),
        Pattern("eu_street_title", rf"(?<![\w\-]){_EU_PREFIX_TITLE}{_EU_TITLE_NAME}[ \t]{{0,3}},?[ \t]{{1,3}}\d{{1,4}}[a-zA-Z]?"
                r"(?![\w\-])", 0.5),
        Pattern("eu_compound_street", rf"(?<![\w\-]){_EU_COMPOUND}[ \t]{{0,3}},?[ \t]{{1,3}}\d{{1,4}}[a-zA-Z]?(?![\w\-])", 0.5),
        Pattern("po_box", r"\b(?:P\.?[ ]?O\.?[ ]?Box|Post Office Box)[ \t]{1,3}\d{1,7}\b", 0.6, flags=("IGNORECASE",)),
    ),
    context=("address", "live", "lives", "living", "located", "ship", "shipping", "deliver", "delivery",
             "mail", "mailing", "billing", "residence", "resides", "home", "moved", "street"),
    strip_trailing=True,  # "12 Main Street." ends a sentence; the dot is not part of the address
    description="House number, up to three name words and a street suffix, optional unit and city/state/ZIP.",
)  # fmt: skip

_ADDRESS_CONTEXT = ("zip", "zipcode", "zip code", "postal", "postcode", "post code", "address", "mailing",
                    "billing", "shipping", "street", "avenue", "road", "city", "state", "lives", "live",
                    "resides", "deliver", "delivery")  # fmt: skip

US_ZIP = PatternRecognizer(
    name="us_zip",
    entity="ZIP_CODE",
    patterns=(
        Pattern(
            "zip_after_state",
            rf"(?<!\w){_STATES},?\s{{1,3}}(\d{{5}}(?:-\d{{4}})?)(?![\w\-])",  # (?<!\w): faster in hyperscan than \b
            0.8,
            group=1,
            standalone=True,
        ),
        Pattern("zip", r"(?<![\w\-.$])\d{5}(?:-\d{4})?(?![\w\-]|\.\d)", 0.1),
    ),
    validator="not_repeated",
    context=_ADDRESS_CONTEXT,
    context_required=True,
    description="US ZIP / ZIP+4, reported only next to a state code or address words.",
)

UK_POSTCODE = PatternRecognizer(
    name="uk_postcode",
    entity="ZIP_CODE",
    patterns=(
        Pattern("uk_postcode", rf"(?<![\w]){_UK_POSTCODE}(?![\w])", 0.3),
        # outward and inward code with the space, as Royal Mail writes them: reported on their own
        Pattern(
            "uk_postcode_spaced",
            r"(?<![\w])(?:[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]?) \d[ABD-HJLNP-UW-Z]{2}(?![\w])",
            0.4,
            standalone=True,
        ),
    ),
    context=_ADDRESS_CONTEXT,
    context_required=True,
    description="Royal Mail postcode formats: written with the space anywhere, without it in address context.",
)

RECOGNIZERS = (STREET_ADDRESS, US_ZIP, UK_POSTCODE)
