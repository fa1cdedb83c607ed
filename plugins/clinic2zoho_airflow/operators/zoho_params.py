"""The loader's and schema preparation's operators with the Zoho Connection id (and the folder
attachments are read from) taken from the DAG run's params: a DAG passes
`zoho_conn_id="{{ params.zoho_conn_id }}"`, so one DAG serves the production org and a sandbox."""

from __future__ import annotations

from collections.abc import Sequence

from clinic2zoho_airflow.operators.zoho_load import ZohoLoadOperator
from clinic2zoho_airflow.operators.zoho_schema import ZohoSchemaOperator


class ParamZohoLoadOperator(ZohoLoadOperator):
    template_fields: Sequence[str] = (*ZohoLoadOperator.template_fields, "zoho_conn_id", "files_root")


class ParamZohoSchemaOperator(ZohoSchemaOperator):
    template_fields: Sequence[str] = (*ZohoSchemaOperator.template_fields, "zoho_conn_id")
