"""Readiness before a migration: `clinic2zoho doctor` (checks.py, the readiness table and page)
and `clinic2zoho invite-providers` (providers without a Zoho user invited through the Users API)."""
