"""Network identifiers: IPv4/IPv6, MAC addresses, URLs and domain names."""

from __future__ import annotations

from veil.detect.recognizer import Pattern, PatternRecognizer

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"

IPV4 = PatternRecognizer(
    name="ipv4",
    entity="IP_ADDRESS",
    patterns=(Pattern("ipv4", rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?:/\d{{1,2}})?(?![\w]|\.\d)", 0.6),),
    validator=None,
    context=("ip", "ipv4", "address", "host", "server", "client", "login", "connected", "from"),
    description="Dotted quad with each octet 0-255 (optional CIDR suffix).",
)

IPV6 = PatternRecognizer(
    name="ipv6",
    entity="IP_ADDRESS",
    patterns=(
        Pattern(
            "ipv6",
            r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:|::?){1,7}(?::|[0-9A-Fa-f]{1,4}|"
            r"(?:\d{1,3}\.){3}\d{1,3})(?:%\w{1,16})?(?![\w:])",
            0.5,
        ),
    ),
    validator="ipv6",
    validated_score=0.7,
    context=("ip", "ipv6", "address", "host", "server"),
    description="Any RFC 4291 text form, validated by the ipaddress module.",
)

MAC = PatternRecognizer(
    name="mac_address",
    entity="MAC_ADDRESS",
    patterns=(
        Pattern(
            "mac_colon",
            r"(?<![\w:\-])[0-9A-Fa-f]{2}([:\-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![\w:\-])",
            0.6,
        ),
        Pattern("mac_dotted", r"(?<![\w.])[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![\w.])", 0.5),
    ),
    validator="mac",
    context=("mac", "hardware", "ethernet", "wifi", "device", "nic"),
    description="IEEE 802 MAC-48 in colon, hyphen or Cisco dotted form.",
)

URL = PatternRecognizer(
    name="url",
    entity="URL",
    patterns=(
        Pattern("url_scheme", r"\b(?:https?|ftp|sftp|wss?)://[^\s<>\"'`{}|\\^]+", 0.6, flags=("IGNORECASE",)),
        Pattern("url_www", r"(?<![\w.@/])www\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)+[^\s<>\"'`{}|\\^]*", 0.5,
                flags=("IGNORECASE",)),
    ),
    strip_trailing=True,
    context=("url", "link", "website", "site", "visit", "http", "profile", "page"),
    description="Web addresses with a scheme or starting with www.",
)  # fmt: skip

_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|io|ai|co|app|dev|me|tv|us|uk|de|fr|es|it|nl|be|ch|at|se|no|dk|fi"
    "|pl|cz|pt|ie|ru|ua|cn|jp|kr|in|au|nz|ca|br|mx|ar|za|il|tr|gr|hu|ro|sk|si|hr|lt|lv|ee|is|lu|sg|hk|tw"
    "|my|th|vn|id|ph|pk|ng|ke|eg|sa|ae|xyz|online|site|store|tech|cloud|shop|blog|news|email|name|pro|mobi"
)

_WORDLIKE_TLDS = "no|is|it|in|at|be|me|my|us|id|pt|so|to|am"
_OTHER_TLDS = "|".join(t for t in _TLDS.split("|") if t not in _WORDLIKE_TLDS.split("|"))

DOMAIN = PatternRecognizer(
    name="domain_name",
    entity="DOMAIN_NAME",
    patterns=(
        Pattern(
            "domain",
            rf"(?<![\w.@/\-])(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.){{1,8}}(?:{_OTHER_TLDS})(?![\w\-@]|\.[a-z0-9])",
            0.4,
            flags=("IGNORECASE",),
        ),
        Pattern(
            "domain_wordlike_sub",
            rf"(?<![\w.@/\-])(?:[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.){{2,8}}(?:{_WORDLIKE_TLDS})(?![\w\-@]|\.[a-z0-9])",
            0.4,
            flags=("IGNORECASE",),
        ),
        # one label and a top-level domain that is also a word ("liquid.no", "dosing.it"): a missing space
        # after a full stop as often as a domain, so it needs context ("visit nrk.no")
        Pattern(
            "domain_wordlike",
            rf"(?<![\w.@/\-])[a-z0-9](?:[a-z0-9\-]{{0,61}}[a-z0-9])?\.(?:{_WORDLIKE_TLDS})(?![\w\-@]|\.[a-z0-9])",
            0.3,
            flags=("IGNORECASE",),
        ),
    ),
    validator="domain",
    context=("domain", "website", "site", "visit", "web", "url", "email", "hosted"),
    description="Bare domain names ending in a common top-level domain.",
)

RECOGNIZERS = (IPV4, IPV6, MAC, URL, DOMAIN)
