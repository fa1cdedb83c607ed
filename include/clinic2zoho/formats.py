"""The export formats the project reads. Each has a reader in `landing/` (`land_export` dispatches
on the name), staging models in `dbt_project/models/staging/<format>/` (tag `format_<format>` in
dbt_project.yml) and a Zoho field plan `dbt_project/mapping/<format>.yml`: a new format starts here.
A vendor's layout of a clinic export is not a format: it is the generic one through a source map."""

FORMATS = ("generic", "synthea", "fhir")
