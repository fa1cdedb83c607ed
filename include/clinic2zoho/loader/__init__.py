"""Loading the Zoho-shaped tables into Zoho CRM: plan (order from lookups), journal and audit log,
record and bulk paths, crash-safe resume, rollback and the credit estimator."""
