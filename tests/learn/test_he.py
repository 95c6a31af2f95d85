"""Encrypted inference and aggregation with TenSEAL CKKS: parameters, keys, packing, agreement, faults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.conftest import SHARED
from veil.errors import ConfigError, InputError
from veil.learn.he import aggregate
from veil.learn.he.model import LinearModel, fit_poly, train
from veil.learn.he.params import CkksParams, Keys, load_context, make_keys, secret_bytes
from veil.learn.he.scoring import EncryptedBatch, decrypt, encrypt, score

ADULT = SHARED / "tabular" / "arx-adult" / "adult.csv"


@pytest.fixture(scope="module")
def adult() -> tuple[pl.DataFrame, pl.DataFrame]:
    df = pl.read_csv(ADULT, separator=";").with_columns(pl.col("age").cast(pl.Float64, strict=False))
    return df[:20000], df[20000:23000]


@pytest.fixture(scope="module")
def model(adult: tuple[pl.DataFrame, pl.DataFrame]) -> LinearModel:
    return train(adult[0], "salary-class", ">50K", ["age"])


@pytest.fixture(scope="module")
def client() -> Keys:
    return make_keys()


def test_parameters_are_checked_before_any_key_is_made() -> None:
    with pytest.raises(ConfigError, match="insecure CKKS parameters: 300 bits"):
        CkksParams(8192, (60, 60, 60, 60, 60), 60)
    with pytest.raises(ConfigError, match="middle primes"):
        CkksParams(8192, (40, 30, 40, 30, 40), 30)
    with pytest.raises(ConfigError, match="too few"):
        CkksParams(8192, (40, 30, 30, 40), 30)
    with pytest.raises(ConfigError, match="one of"):
        CkksParams(1000)
    assert CkksParams().describe()["bits"] == 170 and CkksParams(16384, (60, 40, 40, 40, 60), 40).slots == 8192


def test_encrypted_scores_agree_with_the_plaintext_model(model: LinearModel, adult: tuple, client: Keys) -> None:
    x = model.encoder.transform(adult[1])
    public = client.public
    batches = encrypt(client, x)
    assert len(batches) == 1 and batches[0].rows == 3000 and len(batches[0].columns) == len(model.weights)
    got = np.concatenate([decrypt(client, score(public, model, b)) for b in batches])
    plain = model.predict_proba(x) > 0.5
    assert np.mean((got > 0.5) == plain) >= 0.999
    assert np.max(np.abs(got - model.poly_proba(x))) < 1e-3  # CKKS noise on top of the polynomial
    _c0, c1, c3 = model.poly
    assert c1 + c3 > 0  # the polynomial keeps the logit's sign on [-R, R]


def test_the_server_never_holds_a_secret_key(model: LinearModel, adult: tuple, client: Keys) -> None:
    with pytest.raises(InputError, match="holds the secret key"):
        load_context(secret_bytes(client.ctx), server=True)
    server_ctx = load_context(client.public, server=True)
    assert not server_ctx.is_private()
    reloaded = Keys.from_bytes(client.to_bytes())
    assert reloaded.id == client.id and reloaded.ctx.is_private()
    with pytest.raises(InputError, match="not a Veil client key file"):
        Keys.from_bytes(client.public)
    x = model.encoder.transform(adult[1][:10])
    out = score(client.public, model, encrypt(client, x)[0], ctx=server_ctx)
    with pytest.raises(InputError, match="secret key"):
        decrypt(Keys(server_ctx, client.public, client.id), out)
    with pytest.raises(InputError, match="not a TenSEAL"):
        load_context(b"not a context")


def test_mismatched_contexts_and_batches_are_refused(model: LinearModel, adult: tuple, client: Keys) -> None:
    other = make_keys()
    x = model.encoder.transform(adult[1][:5])
    batch = encrypt(other, x)[0]
    with pytest.raises(InputError, match="another context"):
        score(client.public, model, batch)
    mine = encrypt(client, x)[0]
    with pytest.raises(InputError, match="feature columns"):
        score(client.public, model, EncryptedBatch(mine.context_id, 5, mine.columns[:-1]))
    with pytest.raises(InputError, match="another context"):
        decrypt(other, score(client.public, model, mine))
    with pytest.raises(InputError, match="not an encrypted batch"):
        EncryptedBatch.from_dict({"rows": 1})


def test_the_model_round_trips_and_encodes_like_training(model: LinearModel, adult: tuple, tmp_path: Path) -> None:
    model.save(tmp_path / "m.json")
    again = LinearModel.load(tmp_path / "m.json")
    x = model.encoder.transform(adult[1][:50])
    assert np.allclose(again.predict_proba(x), model.predict_proba(x))
    odd = adult[1][:2].with_columns(pl.lit("Atlantis").alias("native-country"))
    assert model.encoder.transform(odd).shape == (2, len(model.weights))  # an unseen category is all zeros
    with pytest.raises(InputError, match="lacks the model's column"):
        model.encoder.transform(adult[1][:2].drop("sex"))
    with pytest.raises(InputError, match="not a Veil"):
        LinearModel.from_dict({"kind": "other"})
    c0, c1, c3 = fit_poly(4.0)
    t = np.linspace(-1, 1, 101)
    assert np.max(np.abs(c0 + c1 * t + c3 * t**3 - 1 / (1 + np.exp(-4 * t)))) < 0.05  # a cubic, least squares


def test_encrypted_sum_and_mean_across_parties(client: Keys, vault: object) -> None:
    public = client.public
    parties = [[1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [100.0, 200.0, 300.0]]
    shares = [aggregate.contribute(public, p) for p in parties]
    total = aggregate.add(public, shares, audit=vault.audit, actor="aggregator")  # type: ignore[attr-defined]
    assert np.allclose(aggregate.reveal(client, total, 3)[:3], [111, 222, 333], atol=1e-3)
    assert np.allclose(aggregate.reveal(client, total, 3, mean=True)[:3], [37, 74, 111], atol=1e-3)
    stranger = aggregate.contribute(make_keys().public, [1.0])
    with pytest.raises(InputError, match="another context"):
        aggregate.add(public, [shares[0], stranger])
    with pytest.raises(InputError, match="secret key"):
        aggregate.reveal(Keys(load_context(public, server=True), public, client.id), total, 3)
    records = [r for r in vault.audit.records() if r["action"] == "he.aggregate"]  # type: ignore[attr-defined]
    assert records and '"parties": 3' in records[0]["details"]


def test_the_service_scores_encrypted_records(model: LinearModel, adult: tuple, client: Keys, tmp_path: Path) -> None:
    import httpx
    import yaml

    from tests.guard.conftest import Server
    from veil.cli.serve import build
    from veil.learn.he.params import b64
    from veil.learn.he.scoring import EncryptedScores
    from veil.vault import MasterKey, Vault
    from veil.vault.access import AccessControl

    model.save(tmp_path / "model.json")
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump({"version": 1, "detection": {"ner": False}}))
    url = f"sqlite:///{tmp_path / 'v.db'}"
    ac = AccessControl(Vault(url, master_key=MasterKey(b"h" * 32, "t")))
    ac.create_role("scorer", ["tokenize"])
    key = ac.create_principal("app", "scorer", totp=False)[0]
    import os

    os.environ["VEIL_MASTER_KEY"] = MasterKey.encode(b"h" * 32)
    try:
        app = build(tmp_path / "policy.yaml", url, work_dir=tmp_path / "w", he_model=tmp_path / "model.json")
        x = model.encoder.transform(adult[1][:100])
        batch = encrypt(client, x)[0].to_dict()
        with Server(app) as svc:
            res = httpx.post(svc.url + "/v1/he/score", json={"context": b64(client.public), "batches": [batch]},
                             headers={"authorization": f"Bearer {key}"}, timeout=60)  # fmt: skip
            assert res.status_code == 200, res.text
            got = decrypt(client, EncryptedScores.from_dict(res.json()["scores"][0]))
            assert np.mean((got > 0.5) == (model.predict_proba(x) > 0.5)) >= 0.99
            secret = httpx.post(svc.url + "/v1/he/score", json={"context": b64(client.to_bytes()), "batches": [batch]},
                                headers={"authorization": f"Bearer {key}"}, timeout=60)  # fmt: skip
            assert secret.status_code == 400 and "secret key" in secret.json()["error"]["message"]
    finally:
        os.environ.pop("VEIL_MASTER_KEY", None)


def test_a_small_mlp_scores_encrypted_as_in_the_clear(tmp_path: Path) -> None:
    from veil.learn.he.mlp import MLP_PARAMS, MlpModel, train_mlp
    from veil.learn.he.model import load_model

    df = pl.read_csv(ADULT, separator=";").with_columns(pl.col("age").cast(pl.Float64, strict=False))
    model = train_mlp(df[:4000], "salary-class", ">50K", ["age"], hidden=4)
    model.save(tmp_path / "mlp.json")
    loaded = load_model(tmp_path / "mlp.json")
    assert isinstance(loaded, MlpModel) and np.array_equal(loaded.w1, model.w1)
    x = model.encoder.transform(df[4000:4300])
    truth = np.asarray(df[4000:4300]["salary-class"].to_list()) == ">50K"
    assert np.mean((model.predict_proba(x) > 0.5) == truth) > 0.78
    keys = make_keys(MLP_PARAMS)
    got = decrypt(keys, score(keys.public, model, encrypt(keys, x, slots=MLP_PARAMS.slots)[0]))
    poly = model.poly_proba(x)
    assert np.max(np.abs(got - poly)) < 1e-3
    clear = np.abs(poly - 0.5) > 1e-3  # CKKS is approximate: decisions are compared away from the threshold
    assert clear.sum() > 290 and np.array_equal((got > 0.5)[clear], (model.predict_proba(x) > 0.5)[clear])
    small = make_keys(CkksParams())  # three levels: too few for the MLP's five
    with pytest.raises(InputError, match=r"too few levels.*--poly 16384"):
        score(small.public, model, encrypt(small, x[:5])[0])
    doc = model.to_dict()
    doc["w2"] = doc["w2"][:-1]
    (tmp_path / "bad.json").write_text(__import__("json").dumps(doc))
    with pytest.raises(InputError, match="shapes"):
        load_model(tmp_path / "bad.json")


def test_one_record_per_ciphertext_with_rotation_keys(model: LinearModel, adult: tuple[pl.DataFrame, pl.DataFrame],
                                                      client: Keys) -> None:  # fmt: skip
    x = model.encoder.transform(adult[1][:70])
    with pytest.raises(InputError, match="--rotations"):
        encrypt(client, x[:1], layout="rows")  # the default keys have no rotation keys
    keys = make_keys(rotations=True)
    batches = encrypt(keys, x, layout="rows")
    assert [b.rows for b in batches] == [64, 6] and all(b.layout == "rows" for b in batches)
    wire = [EncryptedBatch.from_dict(b.to_dict()) for b in batches]
    scores = [score(keys.public, model, b) for b in wire]
    got = np.concatenate([decrypt(keys, type(s).from_dict(s.to_dict())) for s in scores])
    poly = model.poly_proba(x)
    # rotations add noise at scale 2^30 (the bench: largest error ~1e-3): decisions agree away from the threshold
    assert np.max(np.abs(got - poly)) < 1e-2
    clear = np.abs(poly - 0.5) > 1e-2
    assert clear.sum() > 60 and np.array_equal((got > 0.5)[clear], (poly > 0.5)[clear])
    with pytest.raises(InputError, match="rotation keys"):
        score(client.public, model, EncryptedBatch(client.id, 1, batches[0].columns[:1], "rows"))
    bad = batches[0].to_dict() | {"layout": "diagonal"}
    with pytest.raises(InputError, match="layout"):
        EncryptedBatch.from_dict(bad)
