"""Learning privately: encrypted inference (TenSEAL CKKS, ``veil[he]``); federated learning comes next."""
