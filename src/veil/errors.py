"""Veil's single exception tree.

Every error carries a stable ``code`` (``VEIL-NNN``) that callers, the CLI and the HTTP service can rely on,
and a human message naming the problem. Codes never change meaning once released.
"""

from __future__ import annotations


class VeilError(Exception):
    """Base of every error Veil raises on purpose."""

    code = "VEIL-000"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def to_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


class ConfigError(VeilError):
    """A configuration value, file or argument is invalid."""

    code = "VEIL-100"


class RecognizerError(ConfigError):
    """A recognizer definition (built-in or custom YAML) is invalid."""

    code = "VEIL-110"


class PolicyError(ConfigError):
    """A policy file is invalid."""

    code = "VEIL-120"


class RegistryError(ConfigError):
    """A name was looked up in a registry that does not hold it."""

    code = "VEIL-130"


class InputError(VeilError):
    """User input (text, file, table) cannot be processed."""

    code = "VEIL-200"


class OutputError(VeilError):
    """An output (a file, standard output) cannot be written: full disk, closed pipe, no permission."""

    code = "VEIL-250"


class MissingExtraError(VeilError):
    """An optional extra (or the model it ships) is not installed."""

    code = "VEIL-300"

    def __init__(self, extra: str, package: str) -> None:
        super().__init__(
            f"this feature needs the optional extra 'veil[{extra}]' (missing: {package})",
            hint=f"pip install 'veil[{extra}]'",
        )
        self.extra = extra
        self.package = package


class ModelError(ConfigError):
    """A shipped model is missing, changed on disk, or not a model."""

    code = "VEIL-140"


class VaultError(VeilError):
    """The vault (keys, tokens, encrypted records) failed."""

    code = "VEIL-400"


class AccessDenied(VaultError):
    """The caller lacks the permission for a privileged action."""

    code = "VEIL-410"


class IntegrityError(VaultError):
    """Stored data or the audit chain failed an integrity check."""

    code = "VEIL-420"


class KeyShredded(VaultError):
    """The data key was destroyed (crypto-shredding): what it protected is irreversible."""

    code = "VEIL-430"


class PrivacyError(VeilError):
    """A privacy guarantee cannot be met or would be broken."""

    code = "VEIL-600"


class NoSolution(PrivacyError):
    """No transformation of the table satisfies the privacy models within the suppression limit."""

    code = "VEIL-610"


class ReleaseRefused(PrivacyError):
    """The output does not meet the guarantee the policy requires, so it was not released."""

    code = "VEIL-620"


class BudgetExceeded(PrivacyError):
    """A differentially private release would spend more than the remaining privacy budget."""

    code = "VEIL-630"


class DeploymentError(VeilError):
    """A federated deployment (SuperLink, SuperNodes, ``flwr run``) did not start, was not reachable or failed."""

    code = "VEIL-700"
