from __future__ import annotations

from pathlib import Path

import pytest

from tests.tabular.privacy.conftest import ADULT
from veil.errors import ConfigError, InputError
from veil.tabular.privacy import (
    DateHierarchy,
    IntervalHierarchy,
    PrefixHierarchy,
    SuppressionHierarchy,
    TableHierarchy,
    auto_hierarchy,
    load_directory,
    parse_spec,
)


def test_arx_csv_hierarchy() -> None:
    h = TableHierarchy.from_csv(ADULT / "hierarchies" / "adult_hierarchy_age.csv")
    assert h.labels(["39"], "age") == [("39", "35-39", "30-39", "20-39", "*")]
    assert h.domain()[3]["20-39"] == 20 and sum(h.domain()[0].values()) == 100
    with pytest.raises(InputError, match=r"column 'age': 2 value\(s\) are not in .*'999', '-9'"):
        h.labels(["39", "150", "-1"], "age")


def test_load_directory_by_arx_or_plain_name(tmp_path: Path) -> None:
    found = load_directory(ADULT / "hierarchies", ["age", "sex", "nothing"])
    assert set(found) == {"age", "sex"}
    (tmp_path / "zip.csv").write_text("81667;8166*;*\n81675;8167*;*\n")
    assert set(load_directory(tmp_path, ["zip"])) == {"zip"}
    with pytest.raises(InputError, match="not a directory"):
        load_directory(tmp_path / "missing", ["zip"])


def test_a_table_that_is_not_a_hierarchy_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "h.csv"
    bad.write_text("a;x;*\nb;x;*\nc;y;*\n")
    TableHierarchy.from_csv(bad)  # fine
    bad.write_text("a;x;p;*\nb;x;q;*\n")
    with pytest.raises(ConfigError, match="'x' at level 1 generalizes to both 'p' and 'q'"):
        TableHierarchy.from_csv(bad)
    bad.write_text("a;x;*\nb;*\n")
    with pytest.raises(ConfigError, match="same number of levels"):
        TableHierarchy.from_csv(bad)


def test_generated_hierarchies() -> None:
    assert IntervalHierarchy([5, 10]).labels(["23", "27.5"], "age") == [
        ("23", "[20, 25)", "[20, 30)", "*"),
        ("27.5", "[25, 30)", "[20, 30)", "*"),
    ]
    with pytest.raises(ConfigError, match="multiple"):
        IntervalHierarchy([5, 7])
    with pytest.raises(InputError, match=r"1 distinct value\(s\) are not finite numbers, e\.g\. one shaped 'a'"):
        IntervalHierarchy([5]).labels(["x"], "age")
    assert DateHierarchy().labels(["2024-02-29"], "dob") == [("2024-02-29", "2024-02", "2024", "*")]
    with pytest.raises(InputError, match="not an ISO date"):
        DateHierarchy().labels(["2023-02-29"], "dob")
    assert PrefixHierarchy(2).labels(["81667"], "zip") == [("81667", "8166*", "816**", "81***", "*")]
    assert SuppressionHierarchy().labels(["a"], "x") == [("a", "*")]


def test_category_mapping_file(tmp_path: Path) -> None:
    mapping = tmp_path / "disease.yaml"
    mapping.write_text("flu: [respiratory, infectious]\ncold: [respiratory, infectious]\nhiv: [blood, infectious]\n")
    h = parse_spec(str(mapping))
    assert h.labels(["hiv"], "disease") == [("hiv", "blood", "infectious", "*")]
    mapping.write_text("- flu\n")
    with pytest.raises(ConfigError, match="value: \\[level 1"):
        parse_spec(str(mapping))


def test_auto_and_spec() -> None:
    assert isinstance(auto_hierarchy(["1990-01-02", "2001-12-31"]), DateHierarchy)
    assert isinstance(auto_hierarchy(["01234", "99999"]), PrefixHierarchy)
    assert isinstance(auto_hierarchy(["23", "45.5"]), IntervalHierarchy)
    assert isinstance(auto_hierarchy(["red", "blue"]), SuppressionHierarchy)
    assert isinstance(parse_spec("interval:5,10"), IntervalHierarchy)
    assert isinstance(parse_spec("date:month,year,decade"), DateHierarchy)
    assert isinstance(parse_spec(str(ADULT / "hierarchies" / "adult_hierarchy_sex.csv")), TableHierarchy)
    with pytest.raises(ConfigError, match="unknown hierarchy"):
        parse_spec("bands")
    with pytest.raises(ConfigError, match="cannot read"):
        parse_spec("interval:five")
