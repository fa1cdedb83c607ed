"""Reports on a load: validation (reconciliation, spot check, related-list integrity), the sample
migration's field-level diff, and the Workflow Rebuild Reference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["ValidationResult", "validate_run", "sample_diff", "SampleDiffResult", "write_workflow_rebuild",
           "ReportError"]

if TYPE_CHECKING:
    from clinic2zoho.reports.run_context import ReportError
    from clinic2zoho.reports.field_diff import SampleDiffResult, sample_diff
    from clinic2zoho.reports.validate import ValidationResult, validate_run
    from clinic2zoho.reports.workflow_rebuild import write_workflow_rebuild

_WHERE = {
    "ValidationResult": "clinic2zoho.reports.validate", "validate_run": "clinic2zoho.reports.validate",
    "sample_diff": "clinic2zoho.reports.field_diff", "SampleDiffResult": "clinic2zoho.reports.field_diff",
    "write_workflow_rebuild": "clinic2zoho.reports.workflow_rebuild",
    "ReportError": "clinic2zoho.reports.run_context",
}


def __getattr__(name: str) -> Any:  # imported on first use: the CLI stays fast
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(name)
