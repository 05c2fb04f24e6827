"""The audit trail: who changed what, when, written in the same transaction as the change."""
