"""Every format round-trips; dirty input is read faithfully or refused clearly; failed writes leave no trace."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from veil.errors import InputError
from veil.storage import testing
from veil.tabular.location import Location, parse_location
from veil.tabular.readers import TableReader, first_bad_utf8
from veil.tabular.writers import writing

FRAME = pl.DataFrame(
    {
        "id": [1, 2, 3, None],
        "email": ["a@example.com", None, "ç@example.org", "d@example.net"],
        "zip": ["01234", "94043", None, "00501"],
        "score": [1.5, None, 3.25, 4.0],
        "ok": [True, False, None, True],
    }
)


def _read_all(loc: Location, batch_rows: int = 2) -> pl.DataFrame:
    with TableReader(loc) as reader:
        return pl.concat(list(reader.batches(batch_rows)), how="vertical_relaxed")


def _write(loc: Location, frame: pl.DataFrame, batch_rows: int = 2, overwrite: bool = False) -> None:
    with writing(loc, overwrite=overwrite) as sink:
        for start in range(0, max(frame.height, 1), batch_rows):
            sink.write(frame.slice(start, batch_rows))


@pytest.mark.parametrize(
    "name", ["t.parquet", "t.jsonl", "sqlite:///{tmp}/t.db#people", "duckdb:///{tmp}/t.duckdb#people"]
)
def test_typed_round_trip(tmp_path: Path, name: str) -> None:
    text = name.format(tmp=tmp_path)
    loc = parse_location(text if "://" in text else str(tmp_path / text))
    _write(loc, FRAME)
    back = _read_all(loc)
    assert back.columns == FRAME.columns
    assert back.to_dicts() == FRAME.to_dicts()


@pytest.mark.parametrize("name", ["t.csv", "t.tsv"])
def test_csv_round_trip_keeps_text_exactly(tmp_path: Path, name: str) -> None:
    loc = parse_location(str(tmp_path / name))
    _write(loc, FRAME)
    back = _read_all(loc)
    assert back["zip"].to_list() == ["01234", "94043", None, "00501"]  # leading zeros kept: cells read as text
    assert back.cast(pl.Utf8).to_dicts() == FRAME.cast(pl.Utf8).to_dicts()


@pytest.mark.service
def test_postgres_round_trip(postgres_server: str) -> None:
    with testing.fresh_database(postgres_server) as url:
        loc = parse_location(f"{url}#people")
        _write(loc, FRAME)
        assert _read_all(loc).to_dicts() == FRAME.to_dicts()
        with pytest.raises(InputError, match="the table exists"):
            _write(loc, FRAME)
        _write(loc, FRAME.head(1), overwrite=True)
        assert _read_all(loc).height == 1


def test_empty_table_gives_one_empty_batch_with_columns(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_text("a,b\n")
    with TableReader(parse_location(str(path))) as reader:
        batches = list(reader.batches())
    assert len(batches) == 1 and batches[0].columns == ["a", "b"] and batches[0].height == 0
    (tmp_path / "none.csv").write_text("")
    with pytest.raises(InputError, match="the file is empty"):
        _read_all(parse_location(str(tmp_path / "none.csv")))


def test_non_utf8_is_reported_with_line_and_byte_and_encoding_option_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nAnn,Paris\nJosé,Málaga\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"not UTF-8 text at line 3, byte offset 23 \(0xE9\).*--encoding latin-1"):
        _read_all(parse_location(str(path)))
    with TableReader(parse_location(str(path)), encoding="latin-1") as reader:
        assert next(reader.batches())["name"].to_list() == ["Ann", "José"]
    with pytest.raises(InputError, match="unknown text encoding"):
        TableReader(parse_location(str(path)), encoding="klingon")


def test_first_bad_utf8_across_block_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(("é" * 10 + "\n").encode() * 3 + b"\xff")
    assert first_bad_utf8(path, block=7) == (4, 63, 0xFF)
    path.write_bytes(("é" * 10).encode())
    assert first_bad_utf8(path, block=7) is None


def test_sqlite_mixed_types_are_read_as_text_with_a_warning(tmp_path: Path) -> None:
    db = tmp_path / "dirty.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (zip INTEGER, note TEXT, raw BLOB)")
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?)", [(1234, "a", b"\x00\xff"), ("0123A", None, None), (None, "c", b"x")]
    )
    con.commit()
    con.close()
    with TableReader(parse_location(f"sqlite:///{db}#t")) as reader:
        frame = pl.concat(list(reader.batches(2)))
        assert frame["zip"].to_list() == ["1234", "0123A", None]
        assert frame["raw"].to_list() == [b"\x00\xff", None, b"x"]
        assert reader.warnings == ["column 'zip' holds values of mixed types: read as text"]


def test_missing_sources_are_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        TableReader(parse_location(str(tmp_path / "nope.csv")))
    (tmp_path / "db.db").touch()
    with pytest.raises(InputError, match="no such table"):
        _read_all(parse_location(f"sqlite:///{tmp_path / 'db.db'}#nope"))


def _failing(frame: pl.DataFrame) -> Iterator[pl.DataFrame]:
    yield frame.head(2)
    raise RuntimeError("disk on fire")


@pytest.mark.parametrize(
    "name", ["out.csv", "out.parquet", "out.jsonl", "sqlite:///{tmp}/o.db#t", "duckdb:///{tmp}/o.duckdb#t"]
)
def test_a_failed_write_leaves_the_old_target_and_no_temporaries(tmp_path: Path, name: str) -> None:
    text = name.format(tmp=tmp_path)
    loc = parse_location(text if "://" in text else str(tmp_path / text))
    _write(loc, FRAME.head(1))
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(RuntimeError, match="disk on fire"), writing(loc, overwrite=True) as sink:
        for batch in _failing(FRAME):
            sink.write(batch)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert _read_all(loc).height == 1  # the old content, whole
    if loc.kind == "sql":
        con = sqlite3.connect(loc.target.removeprefix("sqlite:///"))
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")] == ["t"]


def test_existing_targets_need_overwrite_and_the_input_is_never_the_output(tmp_path: Path) -> None:
    loc = parse_location(str(tmp_path / "a.csv"))
    _write(loc, FRAME)
    with pytest.raises(InputError, match="the file exists"):
        _write(loc, FRAME)
    with pytest.raises(InputError, match="the output is the input"), writing(loc, overwrite=True, source=loc):
        pass


def test_jsonl_batches_keep_the_first_rows_columns_and_refuse_lossy_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"zip": "0123", "n": 1}\n\n{"zip": "9", "n": null}\n{"zip": "44"}\n')
    frame = _read_all(parse_location(str(path)), batch_rows=1)
    assert frame.to_dicts() == [{"zip": "0123", "n": 1}, {"zip": "9", "n": None}, {"zip": "44", "n": None}]
    path.write_text('{"zip": 123}\n{"zip": "0123"}\n')
    with pytest.raises(
        InputError, match="from line 2, column 'zip' holds String values where the first rows held Int64"
    ):
        _read_all(parse_location(str(path)), batch_rows=1)
    path.write_text('{"a": 1}\n{"a": 2, "b": 3}\n')
    with pytest.raises(InputError, match="key\\(s\\) b that the first rows did not have"):
        _read_all(parse_location(str(path)), batch_rows=1)
    path.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(InputError, match="lines 2-2"):
        _read_all(parse_location(str(path)), batch_rows=1)
