"""What of the dbt project the DAGs render as Airflow tasks, read from the environment at parse.

A deployment migrates one clinic export, so it knows its format (CLINIC2ZOHO_SOURCE_FORMAT):
only that format's staging models become tasks, and the other formats' staging models (empty
views the intermediate models union) are built together in one dbt call before them. Unset, every
format is rendered. CLINIC2ZOHO_DBT_SELECT narrows the render to a dbt selection (tests use it)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from clinic2zoho.formats import FORMATS

FORMAT_ENV = "CLINIC2ZOHO_SOURCE_FORMAT"
SELECT_ENV = "CLINIC2ZOHO_DBT_SELECT"


class RenderConfigError(ValueError):
    pass


@dataclass(frozen=True)
class DbtRender:
    select: list[str]
    source_format: str | None  # None: every format rendered

    @property
    def other_formats(self) -> list[str]:
        return [] if self.source_format is None else [f for f in FORMATS if f != self.source_format]

    @property
    def other_format_tags(self) -> list[str]:
        """dbt selectors of the staging models not rendered as tasks (dbt_project.yml tags them)."""
        return [f"tag:format_{f}" for f in self.other_formats]


def dbt_render_from_env() -> DbtRender:
    select = [item for item in os.environ.get(SELECT_ENV, "").split() if item]
    fmt = os.environ.get(FORMAT_ENV, "").strip().lower() or None
    if fmt is not None and fmt not in FORMATS:
        raise RenderConfigError(f"{FORMAT_ENV}={fmt!r} is not a known export format; expected one of "
                                f"{', '.join(FORMATS)} (or unset for all)")
    return DbtRender(select=select, source_format=fmt)
