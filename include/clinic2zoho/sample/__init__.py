"""The sample migration's patients: a stratified, seeded selection with all related records,
written as filtered copies of the Zoho-shaped tables the loader loads as they are."""

from clinic2zoho.sample.selection import SampleError, SampleSelection, select_sample

__all__ = ["SampleError", "SampleSelection", "select_sample"]
