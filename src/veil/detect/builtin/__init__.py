"""Veil's built-in recognizers, each declared as data in the module of its family."""

from __future__ import annotations

from veil.detect.builtin import contact, financial, location, national_id, network, secrets, temporal
from veil.detect.recognizer import PatternRecognizer

BUILTIN: tuple[PatternRecognizer, ...] = (
    *contact.RECOGNIZERS,
    *financial.RECOGNIZERS,
    *national_id.RECOGNIZERS,
    *network.RECOGNIZERS,
    *location.RECOGNIZERS,
    *temporal.RECOGNIZERS,
    *secrets.RECOGNIZERS,
)

__all__ = ["BUILTIN"]
