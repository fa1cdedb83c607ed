"""Profiling of landed exports and the Data Quality Report: `build_quality_report(...)`."""

from clinic2zoho.quality.report import QualityError, build_quality_report

__all__ = ["QualityError", "build_quality_report"]
