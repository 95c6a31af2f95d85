"""The Veil service: one FastAPI app over the library (``veil serve``): the ``/v1`` API, the operator dashboard
(``/ui``), the privacy center for data subjects (``/center``) and, when configured, the guard (``/llm/v1``)."""
