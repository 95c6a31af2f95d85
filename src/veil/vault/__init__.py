"""The vault: envelope-encrypted keys, the token store, and (later) access control and the audit log."""

from veil.vault.formats import DEFAULT_FORMAT, TokenFormat
from veil.vault.keys import MasterKey, ScopeKeys, load_master_key
from veil.vault.vault import Vault

__all__ = ["DEFAULT_FORMAT", "MasterKey", "ScopeKeys", "TokenFormat", "Vault", "load_master_key"]
