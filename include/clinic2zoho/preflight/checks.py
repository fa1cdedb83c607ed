"""`clinic2zoho doctor`'s checks against the configured org, real or local, in the order a clinic
fixes them: the data centre answers, the token is granted with every scope the project needs, the
plan (edition, licences) as GET /org says it and the credits left today against this export's load,
the edition's concurrency, every record-owning provider an active confirmed user, the confirmed
mapping's modules and fields present or creatable (layout-mandatory fields included), and a sandbox
org for the sample migration. Each check reads; none changes the org."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from clinic2zoho.preflight import providers as prov
from clinic2zoho.preflight.readiness import FAIL, OK, WARN, Readiness
from clinic2zoho.preflight.scopes import probe_scopes
from clinic2zoho.tls import tls_context
from clinic2zoho.zoho.facts import CUSTOM_FIELDS, CUSTOM_MODULE_CREDITS, EDITIONS, MAX_CONCURRENT_BIG_WRITES, daily_credit_limit
from clinic2zoho.zoho.edition import EditionUnknown, OrgEdition, edition_of
from clinic2zoho.zoho.errors import ZohoAuthError, ZohoError

SANDBOX_ENV = "AIRFLOW_CONN_ZOHO_SANDBOX"  # the sample DAG's Connection `zoho_sandbox`
SHOWN = 5  # ids named in a row; the page's tables list all


@dataclass
class DoctorInputs:
    warehouse: Path
    dbt_dir: Path | None = None
    formats: list[str] | None = None
    plan: Any = None  # LoadPlan, or None with plan_error saying why
    plan_error: str | None = None
    source: Path | None = None
    sandbox_connection: str | None = field(default_factory=lambda: os.environ.get(SANDBOX_ENV))


@dataclass
class DoctorResult:
    readiness: Readiness
    states: list[prov.ProviderState] = field(default_factory=list)
    schema_steps: list[Any] = field(default_factory=list)  # what prepare-schema would create

    @property
    def to_invite(self) -> list[prov.Provider]:
        return prov.to_invite(self.states)


def run_doctor(config: Any, inputs: DoctorInputs, client_factory: Any = None) -> DoctorResult:
    from clinic2zoho.zoho import ZohoClient

    result = DoctorResult(Readiness())
    r = result.readiness
    if not reachable(config, r):
        return result
    client = (client_factory or ZohoClient)(config)
    try:
        try:
            client.check_credentials()
        except ZohoAuthError as exc:
            r.add("Token", FAIL, f"the accounts server refused the refresh token ({exc.code or exc.message})",
                  "check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN, and that the data centre is the "
                  "one the org lives in (a grant is valid in its own data centre only)")
            return result
        r.add("Token", OK, "access token granted for the refresh token")
        _guarded(r, "Scopes", lambda: check_scopes(client, r))
        org = _guarded(r, "Edition", lambda: client.current_org())
        plan = check_edition(org, r) if isinstance(org, dict) else None
        _guarded(r, "Providers", lambda: check_providers(client, inputs, result))
        result.schema_steps = _guarded(r, "Mapping schema", lambda: check_schema(client, inputs, plan, r)) or []
        _guarded(r, "Layout-mandatory fields", lambda: check_layouts(client, inputs, r))
        if plan is not None:
            _guarded(r, "Credits today", lambda: check_credits(client, inputs, plan, r, result.schema_steps))
            check_concurrency(config, plan, r)
        _guarded(r, "Sandbox org", lambda: check_sandbox(org if isinstance(org, dict) else {}, inputs, r))
    finally:
        client.close()
    return result


def _guarded(r: Readiness, name: str, fn: Any) -> Any:
    """Run one check; a Zoho refusal or a missing input becomes its FAIL row instead of a traceback."""
    try:
        return fn()
    except ZohoError as exc:
        r.add(name, FAIL, f"Zoho refused a read: {exc}", "see the Scopes row; run doctor again once fixed")
    except (OSError, ValueError, RuntimeError) as exc:
        r.add(name, FAIL, f"{type(exc).__name__}: {str(exc)[:300]}")
    return None


# ------------------------------------------------------------------------------ data centre
def reachable(config: Any, r: Readiness) -> bool:
    down = []
    for role, url in (("accounts", config.accounts_base), ("API", config.api_base)):
        try:
            httpx.get(url, timeout=15.0, follow_redirects=False, verify=tls_context())
        except httpx.HTTPError as exc:
            down.append(f"{role} host {url} ({type(exc).__name__})")
    if down:
        r.add("Data centre", FAIL, "no answer from the " + "; ".join(down),
              "check the data centre (ZOHO_DATA_CENTRE) or ZOHO_API_URL / ZOHO_ACCOUNTS_URL, and the network path")
        return False
    r.add("Data centre", OK, f"accounts {config.accounts_base} and API {config.api_base} answer")
    return True


# ------------------------------------------------------------------------------ scopes
def check_scopes(client: Any, r: Readiness) -> None:
    results = probe_scopes(client)
    missing = [s.scope for s in results if s.granted is False]
    unknown = [f"{s.scope} ({s.note})" for s in results if s.granted is None]
    r.details["Scopes"] = (["scope", "granted", "probe"],
                           [[s.scope, {True: "yes", False: "NO", None: "?"}[s.granted], s.note] for s in results])
    if missing:
        r.add("Scopes", FAIL, f"not granted: {', '.join(missing)} (401 OAUTH_SCOPE_MISMATCH)",
              "create a new grant token with every scope in the README's list and exchange it for a refresh token")
    elif unknown:
        r.add("Scopes", WARN, f"could not tell: {'; '.join(unknown)}")
    else:
        r.add("Scopes", OK, f"{len(results)} scopes granted: {', '.join(s.scope for s in results)}")


# ------------------------------------------------------------------------------ plan
def is_sandbox(org: dict[str, Any]) -> bool:
    # org.json spells the types capitalised (Production, Sandbox); compare without case
    return str(org.get("type") or "").strip().lower() == "sandbox"


def check_edition(org: dict[str, Any], r: Readiness) -> OrgEdition | None:
    """The edition and licences GET /org names (zoho.edition: the edition paid for, never assumed)."""
    try:
        plan = edition_of(org)
    except EditionUnknown as exc:
        r.add("Edition", FAIL, str(exc), "check the org's plan (Setup > Billing); credits and concurrency follow it")
        return None
    if not plan.paid and plan.trial_type:
        r.add("Edition", WARN, f"{plan.describe()}: the credits counted are the paid edition's",
              "buy the edition before the cutover, or expect the paid edition's budget")
    else:
        r.add("Edition", OK, plan.describe())
    return plan


def schema_credits(steps: list[Any]) -> int:
    """prepare-schema's calls: a custom module CUSTOM_MODULE_CREDITS, every other change one call."""
    return sum(CUSTOM_MODULE_CREDITS if s.kind == "module" else 1 for s in steps)


def check_credits(client: Any, inputs: DoctorInputs, plan: Any, r: Readiness, schema_steps: list[Any] = ()) -> None:
    from clinic2zoho.loader.estimate import PlanLimits, estimate
    from clinic2zoho.loader.source import TableSource

    edition, users = plan.edition, plan.user_count or 1
    budget = daily_credit_limit(edition, users)
    header = client.credits_remaining  # X-API-CREDITS-REMAINING of the last answer, if Zoho sent it
    left, said = (header, "X-API-CREDITS-REMAINING") if header is not None else (
        budget, f"{edition} with {users} licences: the daily budget, Zoho sent no X-API-CREDITS-REMAINING")
    if inputs.plan is None:
        r.add("Credits today", WARN, f"{left:,} credits left today ({said}); no load estimate: {inputs.plan_error}",
              "build the models (dbt build) so the load can be estimated, then run doctor again")
        return
    source = TableSource(inputs.warehouse)
    try:
        counts = {s.module: source.count(s) for s in inputs.plan.specs}
    except Exception as exc:  # a table the plan names is not built
        r.add("Credits today", WARN, f"{left:,} credits left today ({said}); no load estimate "
              f"({type(exc).__name__}: the plan's tables are not all built)", "build the models, then run doctor again")
        return
    est = estimate(inputs.plan, counts, PlanLimits(edition, users))
    schema = schema_credits(list(schema_steps))
    needed = est.credits + schema
    days = max(1, math.ceil(needed / budget)) if needed else 0
    what = f"the load needs {est.credits:,} credits" + (
        f" and preparing the schema {schema:,} ({sum(1 for s in schema_steps if s.kind == 'module')} custom modules "
        f"at {CUSTOM_MODULE_CREDITS})" if schema else "")
    r.details["Load estimate"] = (["module", "rows", "bulk jobs", "record calls", "credits"],
                                  [[m.module, m.rows, m.bulk_jobs, m.record_calls, m.credits] for m in est.modules])
    if needed > left:
        r.add("Credits today", FAIL,
              f"{what}, {left:,} are left today ({said}); about {days} day(s) of a {budget:,}-credit daily budget",
              f"load over {days} days (a stopped load resumes where it stopped: run `clinic2zoho load` again when "
              "credits are back) or buy add-on API credits, then run doctor again")
    else:
        r.add("Credits today", OK, f"{what}, {left:,} left today ({said}); "
              f"{days} day(s) of the {budget:,}-credit daily budget; the load itself about "
              + (f"{round(est.seconds)} s" if est.seconds < 120 else f"{round(est.seconds / 60)} min"))


def check_concurrency(config: Any, plan: Any, r: Readiness) -> None:
    edition = plan.edition
    allowed = EDITIONS[edition].concurrency
    configured = config.max_concurrency
    cause = (f"{edition}: {allowed} concurrent calls, at most {MAX_CONCURRENT_BIG_WRITES} of them writes of more "
             "than 10 records (secondary sources, ZOHO_API.md)")
    if configured and configured > allowed:
        r.add("Concurrency", WARN, f"{cause}; the client is set to {configured}",
              f"set max_concurrency to {allowed} or less: Zoho answers 429 beyond it")
    else:
        r.add("Concurrency", OK, f"{cause}; the client uses {configured or allowed}")


# ------------------------------------------------------------------------------ providers
def provider_states(client: Any, inputs: DoctorInputs) -> tuple[list[prov.ProviderState] | None, str]:
    providers, where = prov.from_warehouse(inputs.warehouse), "the warehouse's zoho_users_resolution"
    if providers is None and inputs.source is not None:
        providers, where = prov.from_export(inputs.source), f"the export's providers.csv ({inputs.source})"
    if providers is None:
        return None, "no built users resolution in the warehouse and no generic export's providers.csv"
    return prov.classify(providers, client.users(type="AllUsers")), where


def check_providers(client: Any, inputs: DoctorInputs, result: DoctorResult) -> None:
    r = result.readiness
    states, where = provider_states(client, inputs)
    if states is None:
        r.add("Providers", WARN, f"not checked: {where}", "land the export and build the models (or pass --source)")
        return
    result.states = states
    by = Counter(s.state for s in states)
    problems = [s for s in states if s.state != prov.MATCHED]
    r.details["Providers not ready"] = (
        ["provider", "e-mail", "owned records", "state"],
        [[s.provider.provider_id, s.provider.email or "(none)", s.provider.owned_records, s.state] for s in problems])
    if not problems:
        r.add("Providers", OK, f"{len(states)} providers ({where}) each an active, confirmed user")
        return
    parts = []
    for state, text in ((prov.NO_USER, "without a user (to invite)"), (prov.WAITING, "invited, waiting for acceptance"),
                        (prov.INACTIVE, "matching a deactivated user"), (prov.NO_EMAIL, "without an e-mail")):
        ids = [s.provider.provider_id for s in states if s.state == state]
        if ids:
            parts.append(f"{len(ids)} {text}: {', '.join(ids[:SHOWN])}{' ...' if len(ids) > SHOWN else ''}")
    fixes = []
    if by[prov.NO_USER]:
        fixes.append("review reports/providers_to_invite.csv, then `clinic2zoho invite-providers --confirm-list "
                     "<that file>`")
    if by[prov.WAITING]:
        fixes.append("the invitees accept Zoho's e-mail")
    if by[prov.INACTIVE]:
        fixes.append("reactivate the users or map the providers to others (provider_email_overrides)")
    if by[prov.NO_EMAIL]:
        fixes.append("fill their e-mails in seed provider_email_overrides")
    r.add("Providers", FAIL, f"of {len(states)} providers ({where}): " + "; ".join(parts), "; ".join(fixes))


# ------------------------------------------------------------------------------ mapping schema
def check_schema(client: Any, inputs: DoctorInputs, plan: Any, r: Readiness) -> list[Any]:
    from clinic2zoho.mapping.confirmation import MappingNotConfirmed
    from clinic2zoho.mapping.schema import SchemaConflict
    from clinic2zoho.mapping.schema_command import prepare_schema

    notes: list[str] = []
    try:
        schema_plan = prepare_schema(client, inputs.dbt_dir, inputs.formats, dry_run=True, warehouse=inputs.warehouse,
                                     log=notes.append)
    except MappingNotConfirmed as exc:
        r.add("Mapping schema", FAIL, str(exc).splitlines()[0][:400], "review and confirm the mapping: clinic2zoho confirm --by NAME")
        return []
    except SchemaConflict as exc:
        r.add("Mapping schema", FAIL, str(exc)[:400], "rename the target in the mapping or change the field in Zoho")
        return []
    except SystemExit as exc:  # no export landed / no mapping file: prepare-schema's own words
        r.add("Mapping schema", FAIL, str(exc.code)[:400], "land the export and propose the mapping first")
        return []
    kinds = Counter(s.kind for s in schema_plan.steps)
    r.details["Schema changes prepare-schema would make"] = (
        ["kind", "module", "field", "change"], [[s.kind, s.module, s.field, s.describe()] for s in schema_plan.steps])
    over = _custom_field_limits(client, schema_plan, plan.edition if plan else "Standard")
    if over:
        r.add("Mapping schema", FAIL, "more custom fields than the edition allows: " + "; ".join(over),
              "drop fields from the mapping (target: skip) or move to an edition with more custom fields")
    elif schema_plan.steps:
        r.add("Mapping schema", OK, "present or creatable: prepare-schema would create "
              + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    else:
        r.add("Mapping schema", OK, "every module and field of the confirmed mapping is in the org")
    return list(schema_plan.steps)


def _custom_field_limits(client: Any, schema_plan: Any, edition: str) -> list[str]:
    limit = CUSTOM_FIELDS.get(edition, 10)
    new = Counter(s.module for s in schema_plan.steps if s.kind == "field")
    created = {s.module for s in schema_plan.steps if s.kind == "module"}
    over = []
    for module, count in sorted(new.items()):
        have = 0 if module in created else sum(1 for f in client.fields(module) if f.get("custom_field"))
        if have + count > limit:
            over.append(f"{module} {have} + {count} new > {limit} ({edition})")
    return over


def check_layouts(client: Any, inputs: DoctorInputs, r: Readiness) -> None:
    try:
        from clinic2zoho.loader.layout_gate import layout_gaps
    except ImportError:  # pragma: no cover - the layout gate ships with the loader
        r.add("Layout-mandatory fields", WARN, "not checked: this build has no layout gate")
        return
    from clinic2zoho.loader.source import TableSource

    if inputs.plan is None:
        r.add("Layout-mandatory fields", WARN, f"not checked: {inputs.plan_error}", "build the models, then run doctor again")
        return
    gaps = layout_gaps(client, inputs.plan, TableSource(inputs.warehouse))
    r.details["Layout-mandatory fields without a source"] = (
        ["module", "field", "where"], [[g.module, g.field, g.describe()] for g in gaps])
    if gaps:
        from clinic2zoho.loader.layout_gate import HOW_TO_FIX

        r.add("Layout-mandatory fields", FAIL, f"{len(gaps)} field(s) the org's layouts make mandatory are left empty: "
              + ", ".join(f"{g.module}.{g.field}" for g in gaps[:SHOWN]) + (" ..." if len(gaps) > SHOWN else ""), HOW_TO_FIX)
    else:
        r.add("Layout-mandatory fields", OK, "every field the org's layouts make mandatory is filled by its table")


# ------------------------------------------------------------------------------ sandbox
def check_sandbox(org: dict[str, Any], inputs: DoctorInputs, r: Readiness) -> None:
    from clinic2zoho.zoho import ZohoClient
    from clinic2zoho.zoho.connection import ZohoConnectionError, config_from_connection

    if is_sandbox(org):
        r.add("Sandbox org", WARN, "the configured org is itself a sandbox (GET /org type): fine for the sample, "
              "not for the cutover", "point ZOHO_* at the production org for the cutover")
        return
    if not inputs.sandbox_connection:
        r.add("Sandbox org", FAIL, f"no sandbox org configured for the sample migration ({SANDBOX_ENV} is not set)",
              "create a sandbox of this org in Zoho (Setup > Sandbox) and set the Connection zoho_sandbox "
              "(clinic2zoho.zoho.connection.connection_json) to its credentials")
        return
    try:
        conn = json.loads(inputs.sandbox_connection)
        config = config_from_connection("zoho_sandbox", login=conn.get("login"), password=conn.get("password"),
                                        extra=conn.get("extra"), host=conn.get("host"), schema=conn.get("schema"),
                                        port=conn.get("port"))
    except (ValueError, AttributeError, ZohoConnectionError) as exc:
        message = str(exc) if isinstance(exc, ZohoConnectionError) else f"{SANDBOX_ENV} is not a JSON Connection"
        r.add("Sandbox org", FAIL, message, "write it with clinic2zoho.zoho.connection.connection_json")
        return
    try:  # few tries: an org that does not answer is the finding, not something to wait out
        with ZohoClient(replace(config, max_attempts=2, timeout=20.0)) as sandbox:
            other = sandbox.current_org()
    except (ZohoError, httpx.HTTPError) as exc:
        r.add("Sandbox org", FAIL, f"the Connection zoho_sandbox does not reach an org: {exc}",
              "check its credentials and data centre")
        return
    if not is_sandbox(other):
        r.add("Sandbox org", FAIL, f"the Connection zoho_sandbox reaches an org of type {other.get('type')!r}, "
              "not a sandbox: the sample would be loaded into it", "point zoho_sandbox at a sandbox org")
    elif str(other.get("id")) == str(org.get("id")):
        r.add("Sandbox org", FAIL, "zoho_sandbox reaches the configured org itself", "point it at the sandbox org")
    else:
        r.add("Sandbox org", OK, f"zoho_sandbox reaches sandbox org {other.get('id')} ({other.get('company_name')})")
