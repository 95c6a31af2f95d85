"""Watching the audit log: baselines per principal and dataset, anomaly detectors, alerts (``veil monitor``)."""
