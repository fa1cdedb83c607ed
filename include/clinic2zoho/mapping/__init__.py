"""The mapping: proposal from data profiles and Zoho metadata, confirmation gate, schema preparation.

The confirmed mapping files (`dbt_project/mapping/<format>.yml`) are the one thing that drives the
Zoho schema, the value-map seeds and the clinic-specific extra columns of the dbt models."""
