"""Detection of personal data in text."""

from veil.detect.context import ContextScorer
from veil.detect.engine import Detector
from veil.detect.lists import AllowList, DenyList
from veil.detect.recognizer import Pattern, PatternRecognizer

__all__ = ["AllowList", "ContextScorer", "DenyList", "Detector", "Pattern", "PatternRecognizer"]
