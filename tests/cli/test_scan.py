from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def veil(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "veil", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)  # fmt: skip


def test_scan_file_table_and_exit_code() -> None:
    res = veil("scan", "examples/sample.txt", "--no-ner")
    assert res.returncode == 1, res.stderr
    assert "CREDIT_CARD" in res.stdout and "IBAN_CODE" in res.stdout and "API_KEY" in res.stdout
    assert "4539 1488 0343 6467" not in res.stdout  # values are masked unless --reveal


def test_scan_clean_text_exits_zero() -> None:
    res = veil("scan", "--text", "nothing personal here, see you next week", "--no-ner")
    assert res.returncode == 0
    assert "No personal data found" in res.stdout


def test_scan_stdin_json_reveal_with_line_and_column() -> None:
    res = veil("scan", "-", "-f", "json", "--reveal", "--no-ner", stdin="hello\n  mail a@veil-example.org\n")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    (item,) = doc["results"]
    assert (item["entity"], item["value"], item["line"], item["column"]) == (
        "EMAIL_ADDRESS",
        "a@veil-example.org",
        2,
        8,
    )
    assert item["explanation"]["validation"] == "passed"


def test_scan_jsonl_big_file_offsets_are_absolute(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    lines = [f"row {i} nothing here\n" for i in range(20_000)]
    lines[15_000] = "row 15000 card 4111 1111 1111 1111\n"
    path.write_text("".join(lines))
    res = veil("scan", str(path), "-f", "jsonl", "--no-ner", "--reveal")
    assert res.returncode == 1, res.stderr
    (rec,) = [json.loads(x) for x in res.stdout.splitlines()]
    text = path.read_text()
    assert text[rec["start"] : rec["end"]] == "4111 1111 1111 1111"
    assert rec["line"] == 15_001


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "missing/file.txt"], "file not found"),
        (["scan", "x", "-f", "xml"], "--format must be one of"),
        (["scan", "x", "--threshold", "7"], "not within 0..1"),
        (["scan", "x", "-r", "nope.yaml"], "file not found"),
        (["scan", "x", "--text", "--profile", "hipaa"], "unknown detection profile 'hipaa'"),
        (["scan", "x", "--text", "--model", "gpt"], "unknown NER model 'gpt'"),
    ],
)
def test_errors_are_one_line_with_code(args: list[str], message: str) -> None:
    res = veil(*args, "--no-ner")
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_non_utf8_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("café 4111 1111 1111 1111".encode("latin-1"))
    res = veil("scan", str(path), "--no-ner")
    assert res.returncode == 2
    assert "not valid UTF-8" in res.stderr and "Traceback" not in res.stderr


def test_custom_recognizers_option(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("recognizers:\n  - name: emp\n    entity: EMPLOYEE_ID\n    patterns:\n"
                    "      - {name: emp, regex: 'EMP-\\d{6}', score: 0.8}\n")  # fmt: skip
    res = veil("scan", "--text", "EMP-123456", "-r", str(path), "-f", "jsonl", "--no-ner")
    assert res.returncode == 1
    assert json.loads(res.stdout)["entity"] == "EMPLOYEE_ID"


def test_scan_clinical_profile() -> None:
    note = "PT SEEN BY DR. OKAFOR 7/22, WIFE MARY AT BEDSIDE. 92 YO."
    res = veil("scan", "--text", note, "--profile", "clinical", "--no-ner", "-f", "json", "--reveal")
    assert res.returncode == 1, res.stderr
    found = {(f["entity"], f["value"]) for f in json.loads(res.stdout)["results"]}
    assert {("PERSON", "OKAFOR"), ("DATE_TIME", "7/22"), ("PERSON", "MARY"), ("AGE", "92")} <= found
    general = veil("scan", "--text", note, "--no-ner", "-f", "json", "--reveal")
    assert ("AGE", "92") not in {(f["entity"], f["value"]) for f in json.loads(general.stdout)["results"]}
