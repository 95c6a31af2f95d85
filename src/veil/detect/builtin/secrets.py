"""Secrets: cloud and SaaS API keys, private key blocks, JWTs and passwords in connection strings."""

from __future__ import annotations

from veil.detect.recognizer import Pattern, PatternRecognizer

_KEY_CONTEXT = ("key", "token", "secret", "api", "apikey", "credential", "auth", "bearer", "password")

API_KEY = PatternRecognizer(
    name="api_key",
    entity="API_KEY",
    patterns=(
        Pattern("aws_access_key_id", r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z2-7]{16}(?![A-Za-z0-9])",
                0.9),
        Pattern("gcp_api_key", r"(?<![\w\-])AIza[0-9A-Za-z_\-]{35}(?![\w\-])", 0.9),
        Pattern("github_token", r"(?<![\w])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}(?![\w])", 0.95),
        Pattern("github_fine_grained", r"(?<![\w])github_pat_[A-Za-z0-9_]{82}(?![\w])", 0.95),
        Pattern("gitlab_token", r"(?<![\w\-])glpat-[A-Za-z0-9_\-]{20}(?![\w\-])", 0.9),
        Pattern("slack_token", r"(?<![\w\-])xox[abposr]-(?:\d{1,20}-){1,4}[A-Za-z0-9\-]{8,200}(?![\w\-])", 0.9),
        Pattern("slack_webhook", r"https://hooks\.slack\.com/services/T[A-Z0-9]{1,20}/B[A-Z0-9]{1,20}/[A-Za-z0-9]{16,64}", 0.95),
        Pattern("openai_key", r"(?<![\w\-])sk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{32,300}(?![\w\-])",
                0.85),
        Pattern("stripe_key", r"(?<![\w])(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{20,250}(?![\w])", 0.9),
        Pattern("twilio_key", r"(?<![\w])SK[0-9a-fA-F]{32}(?![\w])", 0.5),
        Pattern("sendgrid_key", r"(?<![\w\-.])SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}(?![\w\-])", 0.95),
        Pattern("google_oauth_secret", r"(?<![\w\-])GOCSPX-[A-Za-z0-9_\-]{28}(?![\w\-])", 0.95),
        Pattern("hf_token", r"(?<![\w])hf_[A-Za-z0-9]{34,100}(?![\w])", 0.85),
    ),
    context=_KEY_CONTEXT,
    description="Provider-specific key formats with distinctive prefixes.",
)  # fmt: skip

AWS_SECRET = PatternRecognizer(
    name="aws_secret_key",
    entity="API_KEY",
    patterns=(Pattern("aws_secret_access_key", r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", 0.2),),
    validator="not_repeated",
    context=("aws_secret_access_key", "secret access key", "aws secret", "secret_key", "secretaccesskey"),
    context_required=True,
    description="40-character AWS secret key, reported only next to its variable name.",
)

PRIVATE_KEY = PatternRecognizer(
    name="private_key",
    entity="PRIVATE_KEY",
    patterns=(
        Pattern(
            "pem_private_key",
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=:\s\-,]*)",
            1.0,
        ),
        Pattern("putty_private_key", r"PuTTY-User-Key-File-\d: [^\n]+(?:\n[^\n]+){0,40}", 0.9),
    ),
    description="PEM/OpenSSH/PGP private key blocks (also when truncated) and PuTTY keys.",
)

JWT = PatternRecognizer(
    name="jwt",
    entity="JWT",
    patterns=(
        Pattern("jwt", r"(?<![\w\-])eyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{10,}(?![\w\-])", 0.6),
    ),
    validator="jwt",
    validated_score=0.95,
    context=_KEY_CONTEXT,
    description="JSON Web Token whose header decodes to JSON with 'alg' or 'typ'.",
)  # fmt: skip

PASSWORD = PatternRecognizer(
    name="password",
    entity="PASSWORD",
    patterns=(
        Pattern("connection_string_password", r"\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@]{1,128}:([^\s@/]{1,128})@[^\s/]{1,255}",
                0.9, flags=("IGNORECASE",), group=1),
        Pattern("password_assignment",
                r"(?<![\w])(?:password|passwd|pwd|pass|secret|api[_\-]?key|access[_\-]?token|auth[_\-]?token)"
                r"[\"']?\s{0,3}(?:=|:|=>)\s{0,3}[\"']?([^\s\"',;]{4,128})",
                0.7, flags=("IGNORECASE",), group=1),
        Pattern("odbc_password", r"(?<![\w])(?:PWD|Password)=([^;\s]{1,128})", 0.85, flags=("IGNORECASE",), group=1),
    ),
    validator="not_repeated",
    description="Passwords in URLs (user:password@host), key=value assignments and ODBC strings.",
)  # fmt: skip

RECOGNIZERS = (API_KEY, AWS_SECRET, PRIVATE_KEY, JWT, PASSWORD)
