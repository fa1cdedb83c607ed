"""A local Zoho CRM v8 server: OAuth, metadata, records, notes, attachments, Bulk Write, credits
and fault injection, with its state in one SQLite file. Start it with `clinic2zoho zoho-server` or
`clinic2zoho.zoho_server.process.ZohoServerProcess`."""
