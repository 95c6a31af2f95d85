"""Privacy probes for any OpenAI-compatible model or agent, scored with Veil's detector (``veil probe``)."""
