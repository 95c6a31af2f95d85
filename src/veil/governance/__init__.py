"""Governance: data subjects, the consent ledger, data-subject requests across sources, records of processing,
impact assessments, breaches and retention, all on the vault database and all in the audit log."""
