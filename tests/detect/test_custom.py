from __future__ import annotations

from pathlib import Path

import pytest

from veil.detect import Detector
from veil.detect.custom import load_recognizer_file
from veil.errors import RecognizerError

GOOD = r"""
recognizers:
  - name: employee_id
    entity: EMPLOYEE_ID
    patterns:
      - {name: emp, regex: 'EMP-\d{6}', score: 0.8}
    context: [employee, staff]
deny:
  PERSON: [Jane Roe]
allow: [support@example.com]
thresholds:
  PHONE_NUMBER: 0.5
"""


def test_custom_file_works(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(GOOD)
    spec, recs = load_recognizer_file(path)
    d = Detector([*recs], ner=False, deny=spec.deny, allow=spec.allow, thresholds=spec.thresholds)
    found = d.detect("staff EMP-123456 is Jane Roe (support@example.com)")
    assert [(f.entity, f.value) for f in found] == [("EMPLOYEE_ID", "EMP-123456"), ("PERSON", "Jane Roe")]
    assert found[0].explanation.context == ("staff",)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("recognizers:\n  - name: x\n    entity: lower\n    patterns: [{name: p, regex: a, score: 0.5}]\n",
         r"line 3, key 'recognizers.0.entity'"),
        ("recognizers:\n  - name: x\n    entity: X\n    patterns: [{name: p, regex: '(', score: 0.5}]\n",
         r"line 2, recognizer 'x': pattern 'p': invalid regular expression"),
        ("recognizers:\n  - name: x\n    entity: X\n    validator: nope\n    patterns: [{name: p, regex: a, score: 0.5}]\n",
         r"unknown validator 'nope'"),
        ("thresholds:\n  PERSON: 3\n", r"line 2, key 'thresholds.PERSON'.*less than or equal to 1"),
        ("recognizers: [\n", r"line \d+: invalid YAML"),
        ("bogus: 1\n", r"line 1, key 'bogus': Extra inputs"),
    ],
)  # fmt: skip
def test_bad_files_name_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(RecognizerError, match=message):
        load_recognizer_file(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RecognizerError, match="file not found"):
        load_recognizer_file(tmp_path / "none.yaml")
