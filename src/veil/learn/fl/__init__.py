"""Federated learning on Flower's Deployment Runtime (``veil[learn]``), every round charged to Veil's DP ledger.

- ``spec``: the model's features (one encoder for every client) and the run's settings from Flower's run config.
- ``linear``: logistic regression in NumPy, plain or DP-SGD (per-example clipping, OpenDP's Gaussian noise).
- ``accounting``: the privacy cost of a run and of each round, from Google's ``dp-accounting`` (RDP).
- ``data``: a client's partition, read and passed through the Veil policy and purpose before training.
- ``client_app`` / ``server_app``: the Flower ClientApp and ServerApp (SecAgg+, client-side clipping).
- ``strategy``: the wrapper that reserves each round in the ledger before it runs and writes the report.
- ``runtime``: a SuperLink and N SuperNodes on loopback, and ``flwr run`` against them (or a remote SuperLink).
"""
