"""veil he keys / train / encrypt / score / decrypt from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from tests.cli.test_anonymize import env, veil  # noqa: F401 - fixtures
from tests.learn.test_he import ADULT
from veil.learn.he.model import LinearModel


def test_the_whole_exchange(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    df = pl.read_csv(ADULT, separator=";")
    df[:3000].write_csv(tmp_path / "train.csv")
    df[3000:3200].drop("salary-class").write_csv(tmp_path / "records.csv")
    t = tmp_path
    res = veil(env, "he", "keys", "--out", str(t / "client.ctx"), "--public", str(t / "public.ctx"))
    assert res.returncode == 0, res.stderr
    assert (t / "client.ctx").stat().st_mode & 0o777 == 0o600
    res = veil(env, "he", "train", str(t / "train.csv"), "--label", "salary-class", "--positive", ">50K",
               "--numeric", "age", "--out", str(t / "model.json"))  # fmt: skip
    assert res.returncode == 0 and "training accuracy" in res.stderr, res.stderr
    res = veil(env, "he", "encrypt", str(t / "records.csv"), "--model", str(t / "model.json"),
               "--context", str(t / "client.ctx"), "--out", str(t / "batch.json"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = veil(env, "he", "score", str(t / "batch.json"), "--model", str(t / "model.json"),
               "--public", str(t / "client.ctx"), "--out", str(t / "scores.json"))  # fmt: skip
    assert res.returncode == 2 and "secret key" in res.stderr  # the server refuses the client's secret context
    res = veil(env, "he", "score", str(t / "batch.json"), "--model", str(t / "model.json"),
               "--public", str(t / "public.ctx"), "--out", str(t / "scores.json"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = veil(env, "he", "decrypt", str(t / "scores.json"), "--context", str(t / "client.ctx"),
               "--out", str(t / "pred.csv"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = pl.read_csv(t / "pred.csv")["prediction"].to_numpy()
    model = LinearModel.load(t / "model.json")
    want = (model.predict_proba(model.encoder.transform(pl.read_csv(t / "records.csv"))) > 0.5).astype(int)
    assert got.shape == (200,) and np.mean(got == want) >= 0.995
    res = veil(env, "he", "keys", "--out", str(t / "k2"), "--public", str(t / "p2"), "--moduli", "60,60,60,60,60",
               "--scale", "60")  # fmt: skip
    assert res.returncode == 2 and "insecure CKKS parameters" in res.stderr and not (t / "k2").exists()


def test_one_record_per_ciphertext_from_the_command_line(env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    df = pl.read_csv(ADULT, separator=";")
    df[:3000].write_csv(tmp_path / "train.csv")
    df[3000:3003].drop("salary-class").write_csv(tmp_path / "records.csv")
    t = tmp_path
    assert veil(env, "he", "train", str(t / "train.csv"), "--label", "salary-class", "--positive", ">50K",
                "--numeric", "age", "--out", str(t / "model.json")).returncode == 0  # fmt: skip
    assert veil(env, "he", "keys", "--out", str(t / "c.ctx"), "--public", str(t / "p.ctx"),
                "--rotations").returncode == 0  # fmt: skip
    res = veil(env, "he", "encrypt", str(t / "records.csv"), "--model", str(t / "model.json"), "--context",
               str(t / "c.ctx"), "--layout", "rows", "--out", str(t / "batch.json"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = veil(env, "he", "score", str(t / "batch.json"), "--model", str(t / "model.json"), "--public",
               str(t / "p.ctx"), "--out", str(t / "scores.json"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    res = veil(env, "he", "decrypt", str(t / "scores.json"), "--context", str(t / "c.ctx"), "--out", str(t / "p.csv"))
    assert res.returncode == 0, res.stderr
    model = LinearModel.load(t / "model.json")
    poly = model.poly_proba(model.encoder.transform(pl.read_csv(t / "records.csv")))
    got = pl.read_csv(t / "p.csv")
    assert np.max(np.abs(got["score"].to_numpy() - poly)) < 1e-2  # rows layout: rotation noise ~1e-3
    clear = np.abs(poly - 0.5) > 1e-2
    assert np.array_equal(got["prediction"].to_numpy()[clear], (poly > 0.5).astype(int)[clear])
