"""`clinic2zoho purge`: remove the patient data from a work folder once the cutover is final, and
keep its audit trail: which record went where (source keys, Zoho ids), every call made to Zoho,
and the counts that showed the load added up.

What a work folder holds and what purge does with it (rules.py lists it table by table):

- the warehouse: every table and view is dropped except the journal and audit copies in `ops`
  and the landing's batch and file counts in `raw`; of those, the columns that can hold a
  patient's values (before-images, note titles and file names, error messages, raw rejected
  lines) are emptied. The file is written anew: a dropped table's data is not left behind in the
  free blocks of the old file.
- the load journal (`journal/<run>/`): its segments are rewritten the same way; the audit logs
  (calls, never payloads) and each run's plan stay as they are.
- reports: those showing field values (sample diff, data quality, reconciliation with its spot
  check, mapping review) are removed; their counts go into `reports/purge.json` and the
  warehouse's `ops.purges`. Load reports and the workflow rebuild reference (counts, workflow
  definitions) stay.
- the generated export and dbt's build artefacts (its log can quote a value) are removed. An
  export given to migrate is the clinic's own files: named, never removed, even inside the folder.
- the local Zoho orgs (`zoho/`) hold the migrated records: removed only with
  `--include-local-orgs`.

Rollback needs the before-images of the records the load updated: after a purge, the records a
run created can still be deleted by id, the updated ones can no longer be restored."""
