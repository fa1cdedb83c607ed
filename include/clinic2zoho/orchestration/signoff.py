"""The clinic admin's sign-off of the sample run, which the cutover requires.

The sample migration writes its field-level diff (reports/sample_diff.csv) and, beside it,
`sample_diff.json`: which run the diff is of, the diff file's hash and the hash of the mapping
confirmation the sample was loaded with. A person reviews the diff and signs it off on the record
(`clinic2zoho sign-off --run RUN --by NAME`, written to `<work>/signoffs/<run>.json`: who, when,
which diff with its hash, the confirmation hash), or refuses it with a reason. The cutover's gate
passes only when the latest decision made with the mapping as confirmed now is a sign-off: a
mapping confirmed again since the sample needs a new sample and a new sign-off.

Mismatches in the diff are what the sign-off reviews: the sample DAG does not fail on them
(validation's `fail_on_mismatch=False`), but signing off a diff with mismatches takes an explicit
`--accept-mismatches`, and `clinic2zoho migrate` never signs one off on a person's behalf."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from clinic2zoho.mapping import confirmation, files
from clinic2zoho.loader.journal import safe_run_id

SIGNOFFS = "signoffs"
DIFF_RECORD = "sample_diff.json"
SIGN_OFF_COMMAND = "clinic2zoho sign-off --run RUN --by NAME"
SIGNED_OFF, REFUSED = "signed_off", "refused"


class SignOffError(RuntimeError):
    """A sign-off that cannot be recorded: names what is missing or changed."""


class SampleNotSignedOff(RuntimeError):
    """Raised by the cutover's gate: no sign-off of a sample made with the mapping as confirmed now."""


def run_key(run_id: str) -> str:
    """A run id as the journal and the file names keep it (Airflow's ':' and '+' become '_')."""
    return safe_run_id(run_id)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _now(now: datetime | None) -> str:
    return (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")


# ------------------------------------------------------------------------------ the sample's diff
@dataclass(frozen=True)
class SampleDiffRecord:
    run_id: str
    diff: str  # the diff file's name, in the reports folder
    diff_sha256: str
    mapping_hash: str  # the confirmation the sample run passed its gate with
    written_at: str
    fields: int
    mismatches: int


def record_sample_diff(run_id: str, csv_path: Path, *, fields: int, mismatches: int, mapping_hash: str,
                       now: datetime | None = None) -> Path:
    """Written by the sample DAG after its diff: what a sign-off of this run refers to."""
    record = SampleDiffRecord(run_key(run_id), csv_path.name, _sha256(csv_path), mapping_hash, _now(now),
                              fields, mismatches)
    path = csv_path.parent / DIFF_RECORD
    path.write_text(json.dumps(asdict(record), indent=1) + "\n", encoding="utf-8")
    return path


def read_sample_diff(reports_dir: Path) -> SampleDiffRecord | None:
    path = reports_dir / DIFF_RECORD
    if not path.is_file():
        return None
    try:
        return SampleDiffRecord(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise SignOffError(f"{path}: unreadable ({exc}); run the sample migration again") from exc


# ------------------------------------------------------------------------------ sign-offs on record
@dataclass(frozen=True)
class SignOff:
    run: str
    decision: str  # signed_off | refused
    by: str
    at: str
    diff: str  # the diff file reviewed, relative to the work folder
    diff_sha256: str
    mapping_hash: str
    fields: int
    mismatches: int
    reason: str = ""

    @property
    def signed_off(self) -> bool:
        return self.decision == SIGNED_OFF


def signoff_path(work: Path, run: str) -> Path:
    return work / SIGNOFFS / f"{run_key(run)}.json"


def _read(path: Path) -> SignOff:
    try:
        return SignOff(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise SignOffError(f"{path}: unreadable sign-off ({exc})") from exc


def read_signoff(work: Path, run: str) -> SignOff | None:
    path = signoff_path(work, run)
    return _read(path) if path.is_file() else None


def signoffs(work: Path) -> list[SignOff]:
    """Every decision on record, oldest first."""
    folder = work / SIGNOFFS
    found = [_read(p) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    return sorted(found, key=lambda s: s.at)


def write_signoff(work: Path, record: SignOff) -> Path:
    path = signoff_path(work, record.run)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(record), indent=1) + "\n", encoding="utf-8")
    return path


def _relative(path: Path, work: Path) -> str:
    try:
        return path.resolve().relative_to(work.resolve()).as_posix()
    except ValueError:
        return str(path)


def sign_off(work: Path, run: str, by: str, *, reports_dir: Path | None = None, dbt_dir: Path | None = None,
             refuse: str | None = None, accept_mismatches: bool = False, now: datetime | None = None) -> SignOff:
    """Record `by`'s decision on the sample run `run`: refused when the run's diff is not the
    latest one, the diff file changed since it was written, the mapping was confirmed again or
    changed since the sample, or the diff has mismatches not explicitly accepted. A decision
    someone else recorded for the run stands."""
    by = (by or "").strip()
    if not by:
        raise SignOffError("say who signs off: --by NAME")
    if refuse is not None and not refuse.strip():
        raise SignOffError("say why the sample is refused: --refuse REASON")
    run = run_key(run)
    earlier = read_signoff(work, run)
    if earlier is not None and earlier.by != by:
        raise SignOffError(f"sample run {run} was already {earlier.decision.replace('_', ' ')} by {earlier.by} at "
                           f"{earlier.at}: that decision stands ({signoff_path(work, run)})")
    reports_dir = reports_dir or work / "reports"
    diff = read_sample_diff(reports_dir)
    if diff is None:
        raise SignOffError(f"no sample diff in {reports_dir} ({DIFF_RECORD} missing): run the sample migration "
                           "(DAG clinic_sample_migration) first")
    if diff.run_id != run:
        raise SignOffError(f"the sample diff in {reports_dir} is of run {diff.run_id}, not {run}: sign off the run "
                           "whose diff you reviewed")
    csv_path = reports_dir / diff.diff
    if not csv_path.is_file() or _sha256(csv_path) != diff.diff_sha256:
        raise SignOffError(f"{csv_path} is not the diff sample run {run} wrote (missing or changed since): run the "
                           "sample migration again")
    dbt_dir = dbt_dir or files.dbt_project_dir()
    try:
        current = confirmation.require_confirmed(dbt_dir, task="the cutover")
    except confirmation.MappingNotConfirmed as exc:
        raise SignOffError(str(exc)) from exc
    if current.hash != diff.mapping_hash:
        raise SignOffError(f"the mapping was confirmed again since sample run {run} (by {current.confirmed_by} at "
                           f"{current.confirmed_at}, hash {current.hash[:12]}; the sample was made with "
                           f"{diff.mapping_hash[:12]}): run the sample migration again and review its diff")
    if refuse is None and diff.mismatches and not accept_mismatches:
        raise SignOffError(f"the diff of sample run {run} has {diff.mismatches} mismatch(es) "
                           f"({_relative(csv_path, work)}): correct the mapping and run the sample again, or "
                           "sign off accepting them with --accept-mismatches")
    record = SignOff(run, REFUSED if refuse is not None else SIGNED_OFF, by, _now(now), _relative(csv_path, work),
                     diff.diff_sha256, diff.mapping_hash, diff.fields, diff.mismatches, (refuse or "").strip())
    write_signoff(work, record)
    return record


# ------------------------------------------------------------------------------ the cutover's gate
def require_signoff(work: Path, dbt_dir: Path | None = None, task: str = "the cutover") -> SignOff:
    """The latest decision on a sample made with the mapping as confirmed now, when it is a
    sign-off; otherwise raises saying what is missing and the command to run."""
    current = confirmation.require_confirmed(dbt_dir, task=task)
    on_record = signoffs(work)
    matching = [s for s in on_record if s.mapping_hash == current.hash]
    if matching and matching[-1].signed_off:
        return matching[-1]
    if matching:
        last = matching[-1]
        raise SampleNotSignedOff(
            f"{task} stops: {last.by} refused sample run {last.run} at {last.at} ({last.reason}). Correct the "
            f"mapping, confirm it, run the sample migration again, then `{SIGN_OFF_COMMAND} --work {work}`.")
    since = ""
    if on_record:
        last = on_record[-1]
        since = (f" The sign-off on record ({last.run} by {last.by} at {last.at}) was made with mapping hash "
                 f"{last.mapping_hash[:12]}: the mapping was confirmed again since.")
    raise SampleNotSignedOff(
        f"{task} needs the sample run signed off with the mapping as confirmed now (hash {current.hash[:12]}, "
        f"confirmed by {current.confirmed_by} at {current.confirmed_at}).{since} Run the sample migration (DAG "
        f"clinic_sample_migration), review reports/sample_diff.html, then run `{SIGN_OFF_COMMAND} --work {work}`.")


def sign_off_on_record(work: Path, run: str, by: str, dbt_dir: Path | None = None) -> tuple[bool, list[str]]:
    """What `clinic2zoho migrate` does between the sample and the cutover: a decision on record for
    the run stands (a refusal stops); a diff without mismatches is signed off as `by`; one with
    mismatches is left to a person. Returns (cutover may start, lines to print)."""
    run = run_key(run)
    command = f"clinic2zoho sign-off --run {run} --by NAME --work {work}"
    try:
        earlier = read_signoff(work, run)
        if earlier is not None:
            if not earlier.signed_off:
                return False, [f"sample run {run} was refused by {earlier.by} at {earlier.at} ({earlier.reason}): "
                               "the cutover does not start"]
            return True, [f"sample run {run} signed off by {earlier.by} at {earlier.at} (on record)"]
        diff = read_sample_diff(work / "reports")
        if diff is not None and diff.run_id == run and diff.mismatches:
            return False, [f"sample diff: {diff.mismatches} mismatch(es); not signed off on anyone's behalf. Review "
                           f"{work / 'reports' / 'sample_diff.html'}, correct the mapping, or accept them: "
                           f"{command} --accept-mismatches"]
        record = sign_off(work, run, by, dbt_dir=dbt_dir)
    except SignOffError as exc:
        return False, [f"sample not signed off: {exc}", f"after review: {command}"]
    return True, [f"sample run {run} signed off on the record by {record.by!r} (diff {record.diff}, sha256 "
                  f"{record.diff_sha256[:12]}; mapping hash {record.mapping_hash[:12]}): "
                  f"{signoff_path(work, run)}"]
