"""clinic2zoho: migrate a medical clinic's data into Zoho CRM."""

__version__ = "0.1.0"
