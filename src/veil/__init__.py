"""Veil: a privacy layer for AI applications."""

from veil.errors import VeilError
from veil.types import Explanation, Finding

__version__ = "0.1.0"

__all__ = ["Explanation", "Finding", "VeilError", "__version__"]
