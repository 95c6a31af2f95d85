"""The Flower ClientApp: each SuperNode trains on its own policy-prepared partition and sends only updates.

Node config (set by whoever runs the SuperNode, never by the server): ``data`` (the partition), ``policy`` and
``purpose`` (applied before training), ``vault`` (the client's own vault for pseudonyms), ``max-epsilon`` (the most
this client's records may spend in one run: a server asking for less noise is refused) and ``allow-plain`` (train
without SecAgg+; off by default, so a server cannot read an individual update by skipping secure aggregation).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.app.message_type import MessageType
from flwr.client import NumPyClient
from flwr.client.mod import fixedclipping_mod, secaggplus_mod
from flwr.clientapp import ClientApp
from flwr.clientapp.typing import ClientAppCallable
from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS
from flwr.compat.common import recorddict_compat as compat

from veil.errors import ConfigError, VeilError
from veil.learn.fl import linear
from veil.learn.fl.data import ClientData, load_client
from veil.learn.fl.spec import RunSettings

CLIPPING_KEY = "clipping_norm"  # Flower's key for the client-side clipping norm
STATE_KEY = "veil-fl"


class VeilClient(NumPyClient):
    def __init__(self, data: ClientData, settings: RunSettings, node: dict[str, Any], state: RecordDict) -> None:
        self.data = data
        self.settings = settings
        self.node = node
        self.state = state  # Flower keeps it for this node across the run's messages

    def fit(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[list[np.ndarray], int, dict[str, Any]]:
        s, d = self.settings, self.data
        self._check_budget(self._count_fit())
        if s.mode == "sample":
            params = linear.train_dpsgd(parameters, d.x_train, d.y_train, steps=s.local_steps,
                                        sample_rate=s.sample_rate, noise_multiplier=s.noise_multiplier, clip=s.clip,
                                        learning_rate=s.learning_rate)  # fmt: skip
        else:
            seed = None if s.private else s.seed * 1_000_003 + int(config.get("server_round", 0))
            params = linear.train_plain(parameters, d.x_train, d.y_train, epochs=s.local_epochs,
                                        learning_rate=s.learning_rate, batch_size=s.batch_size, seed=seed)  # fmt: skip
        # An unweighted mean under DP or SecAgg+: a client's weight would otherwise raise its influence (and
        # the sensitivity the noise was calibrated to) and disclose its size.
        weight = 1 if (s.private or s.secagg) else len(d.y_train)
        return params, weight, {"rows": len(d.y_train)}

    def evaluate(self, parameters: list[np.ndarray], config: dict[str, Any]) -> tuple[float, int, dict[str, Any]]:
        loss, accuracy = linear.evaluate(parameters, self.data.x_test, self.data.y_test)
        return loss, len(self.data.y_test), {"accuracy": accuracy}

    def _count_fit(self) -> int:
        """How many times this client has trained in this run, this one included: counted by the client, not
        taken from the server's round number (a server repeating "round 1" would otherwise never pass a limit)."""
        record = self.state.config_records.get(STATE_KEY) or ConfigRecord({"fits": 0})
        fits = int(str(record["fits"])) + 1
        record["fits"] = fits
        self.state.config_records[STATE_KEY] = record
        return fits

    def _check_budget(self, fits: int) -> None:
        """The client's own limit: its records' epsilon after this many fits, by the same accountant as the
        server's, with the run's own noise numbers (the ones this client trains with)."""
        limit = self.node.get("max-epsilon")
        if limit is None or not self.settings.private:
            return
        spent = self.settings.plan.epsilon(fits)
        if not math.isfinite(spent) or spent > float(limit):
            raise ConfigError(f"fit number {fits} of this run would bring this client's records to epsilon "
                              f"{spent:.3g}, above its max-epsilon {float(limit):g}: the client refuses to "
                              "train")  # fmt: skip


def client_fn(context: Context) -> Any:
    settings = RunSettings.from_run_config(dict(context.run_config))
    node = dict(context.node_config)
    if "data" not in node:
        raise ConfigError("this SuperNode has no 'data' in its node config (the partition to train on)")
    data = load_client(str(node["data"]), _opt(node, "policy"), _opt(node, "purpose"), settings.feature_spec(),
                       vault=_opt(node, "vault"))  # fmt: skip
    return VeilClient(data, settings, node, context.state).to_client()


def _opt(node: dict[str, Any], key: str) -> str | None:
    value = node.get(key)
    return str(value) if value not in (None, "") else None


def secagg_required(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """SecAgg+ for every training message that carries its protocol; a plain one only where the node allows."""
    if msg.metadata.message_type == MessageType.TRAIN:
        if RECORD_KEY_CONFIGS in msg.content.config_records:
            out: Message = secaggplus_mod(msg, ctxt, call_next)
            return out
        if str(ctxt.node_config.get("allow-plain", "false")).lower() != "true":
            raise ConfigError("the server asked for an update without SecAgg+; this client's node config does "
                              "not allow that (allow-plain)")  # fmt: skip
    reply: Message = call_next(msg, ctxt)
    return reply


def clip_when_asked(msg: Message, ctxt: Context, call_next: ClientAppCallable) -> Message:
    """Flower's client-side fixed clipping when the server's DP wrapper sent a clipping norm."""
    if msg.metadata.message_type == MessageType.TRAIN and "fitins.config" in msg.content.config_records:
        fit_ins = compat.recorddict_to_fitins(msg.content, keep_input=True)
        if CLIPPING_KEY in fit_ins.config:
            out: Message = fixedclipping_mod(msg, ctxt, call_next)
            return out
    reply: Message = call_next(msg, ctxt)
    return reply


app = ClientApp(client_fn=client_fn, mods=[secagg_required, clip_when_asked])

__all__ = ["VeilClient", "VeilError", "app"]
