"""Payment cards, IBANs and crypto wallet addresses."""

from __future__ import annotations

from veil.detect.recognizer import Pattern, PatternRecognizer

CREDIT_CARD = PatternRecognizer(
    name="credit_card",
    entity="CREDIT_CARD",
    patterns=(
        Pattern("card_grouped", r"(?<![\d\-.])\d{4}([ \-])\d{4,6}\1\d{4,5}(?:\1\d{1,4}){0,2}(?![\d\-]|\.\d)", 0.3),
        Pattern("card_plain", r"(?<![\d\-.])\d{12,19}(?![\d\-]|\.\d)", 0.1),
    ),
    validator="credit_card",
    validated_score=1.0,
    context=("credit", "card", "visa", "mastercard", "amex", "discover", "jcb", "maestro", "cc", "debit",
             "payment", "pan", "unionpay", "diners"),
    description="13-19 digit numbers in a known IIN range that pass the Luhn check.",
)  # fmt: skip

IBAN = PatternRecognizer(
    name="iban",
    entity="IBAN_CODE",
    patterns=(
        Pattern(
            "iban",
            r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?(?![A-Za-z0-9])",
            0.3,
            flags=("IGNORECASE",),  # mod-97 and the per-country length keep lower-case matches safe
        ),
    ),
    validator="iban",
    validated_score=1.0,
    context=("iban", "bank", "account", "transfer", "wire", "sepa", "bic", "swift"),
    description="Country code, check digits and BBAN; per-country length and ISO 7064 mod-97 check.",
)

_CRYPTO_CONTEXT = ("wallet", "bitcoin", "btc", "eth", "ethereum", "crypto", "address", "send")

BITCOIN_LEGACY = PatternRecognizer(
    name="bitcoin_base58",
    entity="CRYPTO",
    patterns=(Pattern("bitcoin_legacy", r"(?<![A-Za-z0-9])[13][a-km-zA-HJ-NP-Z1-9]{25,34}(?![A-Za-z0-9])", 0.3),),
    validator="base58check",
    validated_score=1.0,
    context=_CRYPTO_CONTEXT,
    description="Bitcoin P2PKH/P2SH address with a valid base58check checksum.",
)

BITCOIN_BECH32 = PatternRecognizer(
    name="bitcoin_bech32",
    entity="CRYPTO",
    patterns=(Pattern("bitcoin_bech32", r"(?<![A-Za-z0-9])(?:bc|tb)1[ac-hj-np-z02-9]{11,71}(?![A-Za-z0-9])", 0.3),),
    validator="bech32",
    validated_score=1.0,
    context=_CRYPTO_CONTEXT,
    description="Bitcoin segwit address with a valid bech32/bech32m checksum.",
)

ETHEREUM = PatternRecognizer(
    name="ethereum",
    entity="CRYPTO",
    patterns=(Pattern("ethereum", r"(?<![A-Za-z0-9])0x[a-fA-F0-9]{40}(?![A-Za-z0-9])", 0.6),),
    context=_CRYPTO_CONTEXT,
    description="Ethereum account address (0x + 40 hex digits).",
)

RECOGNIZERS = (CREDIT_CARD, IBAN, BITCOIN_LEGACY, BITCOIN_BECH32, ETHEREUM)
