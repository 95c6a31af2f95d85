"""veil scan-table / anonymize-table / scan-db from the command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.test_anonymize import ROOT, env, policy, veil  # noqa: F401 - fixtures

SAMPLE = str(ROOT / "examples" / "customers.csv")


def test_scan_table_formats_and_exit_codes(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    res = veil(env, "scan-table", SAMPLE, "--no-ner")
    assert res.returncode == 1, res.stderr
    assert "email" in res.stdout and "EMAIL_ADDRESS" in res.stdout and "@" not in res.stdout.split("examples")[-1]
    res = veil(env, "scan-table", SAMPLE, "--no-ner", "-f", "json")
    doc = json.loads(res.stdout)
    roles = {c["name"]: c["role"] for c in doc["columns"]}
    assert roles["email"] == "identifier" and roles["zip_code"] == "quasi_identifier" and roles["notes"] == "free_text"
    html = tmp_path / "r.html"
    res = veil(env, "scan-table", SAMPLE, "--no-ner", "-f", "html", "-o", str(html))
    assert res.returncode == 1 and "<svg" in html.read_text() and "<script" not in html.read_text()
    clean = tmp_path / "clean.csv"
    clean.write_text("qty,price\n1,2.5\n3,4\n")
    assert veil(env, "scan-table", str(clean), "--no-ner").returncode == 0


def test_anonymize_table_to_a_database_and_scan_db(env: dict[str, str], policy: Path, tmp_path: Path) -> None:  # noqa: F811
    db = tmp_path / "out.db"
    report = tmp_path / "run.json"
    res = veil(env, "anonymize-table", SAMPLE, "-p", str(policy), "--purpose", "analytics",
               "-o", f"sqlite:///{db}#customers", "--report", str(report))  # fmt: skip
    assert res.returncode == 0, res.stderr
    doc = json.loads(report.read_text())
    assert doc["rows_in"] == doc["rows_out"] == 40 and "email" in doc["dropped"]
    rows = sqlite3.connect(db).execute("SELECT customer_id, birth_date FROM customers").fetchall()
    assert rows[0][0].startswith("User") and len(rows[0][1]) == 4
    again = veil(env, "anonymize-table", SAMPLE, "-p", str(policy), "-o", f"sqlite:///{db}#customers")
    assert again.returncode == 2 and "the table exists" in again.stderr and "Traceback" not in again.stderr
    data_map = tmp_path / "map.json"
    res = veil(env, "scan-db", f"sqlite:///{db}", "--no-ner", "-f", "json", "-o", str(data_map))
    assert res.returncode == 1, res.stderr
    assert "customers" in json.loads(data_map.read_text())["tables"]


def test_bad_input_is_one_clear_line(env: dict[str, str], policy: Path, tmp_path: Path) -> None:  # noqa: F811
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,email\nJosé,jose@example.com\n".encode("latin-1"))
    res = veil(env, "scan-table", str(latin), "--no-ner")
    assert res.returncode == 2 and "not UTF-8 text at line 2" in res.stderr and "Traceback" not in res.stderr
    assert veil(env, "scan-table", str(latin), "--no-ner", "--encoding", "latin-1").returncode == 1
    res = veil(env, "anonymize-table", str(tmp_path / "missing.csv"), "-p", str(policy), "-o", str(tmp_path / "o.csv"))
    assert res.returncode == 2 and "file not found" in res.stderr
    res = veil(env, "scan-db", f"sqlite:///{tmp_path / 'x.db'}", "--tables", "nope", "--no-ner")
    assert res.returncode == 2 and "no such database file" in res.stderr and not (tmp_path / "x.db").exists()
    sqlite3.connect(tmp_path / "x.db").close()
    res = veil(env, "scan-db", f"sqlite:///{tmp_path / 'x.db'}", "--tables", "nope", "--no-ner")
    assert res.returncode == 2 and "no such table" in res.stderr
