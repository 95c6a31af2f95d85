"""Encrypted inference and aggregation with TenSEAL's CKKS scheme (``pip install 'veil[he]'``)."""
