"""Anonymization operators (text and polars column forms) and the anonymizer that applies a policy."""

from veil.transform.base import Operator, TransformContext, make_operator, operator_names

__all__ = ["Operator", "TransformContext", "make_operator", "operator_names"]
