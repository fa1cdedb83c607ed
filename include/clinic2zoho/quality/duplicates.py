"""Duplicate patient candidates, scored with splink 5 on DuckDB.

The model is fixed, not trained: the m and u probabilities below say how often each kind of
agreement occurs among true duplicates (m) and among different people (u). Training (EM) on a
small or oddly shaped export can drift; fixed values give the same scores for the same data,
which is what a report a clinic signs off on needs."""

from __future__ import annotations

import logging

import pandas as pd

log = logging.getLogger(__name__)

# Two different people picked at random are the same person this often (prior). A fixed value, so
# scores do not move with the size of the export.
PRIOR = 1e-4
DEFAULT_THRESHOLD = 0.5  # listed in the report (and a gate warning until decided)
# From this match probability a pair fails the dbt gate until a person decides it: merged, or two
# different people. Measured on generated exports (seed 11, 400 and 10,000 patients): every planted
# duplicate scores at least 0.99999, the best-scoring pair of two different people 0.92.
DECISION_THRESHOLD = 0.99

# The input view's columns (built per source format by clinic2zoho.quality.sources).
PERSON_COLUMNS = ["unique_id", "first_name", "last_name", "birth_date", "phone", "email", "postal_code"]


def _settings():
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    names = cl.ForenameSurnameComparison("first_name", "last_name").configure(
        # levels: exact, swapped, both Jaro-Winkler > 0.92, both > 0.88, surname only, forename only, else
        m_probabilities=[0.80, 0.04, 0.08, 0.03, 0.025, 0.015, 0.01],
        u_probabilities=[0.0005, 0.00001, 0.0005, 0.001, 0.01, 0.02, 0.96799],
    )
    birth = cl.ExactMatch("birth_date").configure(m_probabilities=[0.95, 0.05], u_probabilities=[0.0003, 0.9997])
    phone = cl.ExactMatch("phone").configure(m_probabilities=[0.85, 0.15], u_probabilities=[0.0001, 0.9999])
    email = cl.ExactMatch("email").configure(m_probabilities=[0.7, 0.3], u_probabilities=[0.00005, 0.99995])
    postal = cl.ExactMatch("postal_code").configure(m_probabilities=[0.9, 0.1], u_probabilities=[0.05, 0.95])
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[names, birth, phone, email, postal],
        # Fixed blocking: only pairs sharing a phone, an email, or birth date and postal code are scored.
        blocking_rules_to_generate_predictions=[
            block_on("phone"), block_on("email"), block_on("birth_date", "postal_code"),
            block_on("birth_date", "last_name"),
        ],
        probability_two_random_records_match=PRIOR,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
    )


def score_duplicates(people: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Pairs of `people` rows (columns PERSON_COLUMNS, cleaned) that are probably the same person:
    unique_id_l, unique_id_r, match_probability, match_weight; best first."""
    empty = pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_probability", "match_weight"])
    if len(people) < 2:
        return empty
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(":memory:")
    frame = db_api.register(people[PERSON_COLUMNS].copy(), dataset_display_name="patients")
    linker = Linker(frame, _settings(), log_level=logging.WARNING)
    scored = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never").as_pandas_dataframe()
    if scored.empty:
        return empty
    scored = scored[["unique_id_l", "unique_id_r", "match_probability", "match_weight"]]
    scored = scored.sort_values(["match_probability", "unique_id_l", "unique_id_r"],
                                ascending=[False, True, True], kind="stable").reset_index(drop=True)
    log.info("duplicate candidates scored: %d pairs at or above %.2f", len(scored), threshold)
    return scored
