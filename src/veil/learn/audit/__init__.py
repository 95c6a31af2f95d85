"""Model leak audits: membership inference (loss threshold, LiRA) and memorized canaries (exposure)."""
