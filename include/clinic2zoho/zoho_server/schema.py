"""Module and field metadata: Zoho's standard modules as seeded in a new org, the field types the
server understands, and Zoho's API-name rules for custom modules and fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# data_type -> (json_type, default length). `url` is accepted on create as Zoho's `website`.
DATA_TYPES: dict[str, tuple[str, int | None]] = {
    "text": ("string", 255),
    "textarea": ("string", 2_000),
    "email": ("string", 100),
    "phone": ("string", 30),
    "website": ("string", 255),
    "integer": ("integer", 9),
    "bigint": ("string", 18),
    "double": ("double", 16),
    "decimal": ("double", 16),
    "currency": ("double", 16),
    "percent": ("double", 5),
    "boolean": ("boolean", None),
    "date": ("string", None),
    "datetime": ("string", None),
    "picklist": ("string", 120),
    "multiselectpicklist": ("jsonarray", 2_000),
    "lookup": ("jsonobject", None),
    "ownerlookup": ("jsonobject", None),
    "userlookup": ("jsonobject", None),
    "subform": ("jsonarray", None),
    "multimodulelookup": ("jsonobject", None),
    "participants": ("jsonarray", None),
    "parent_id": ("jsonobject", None),
    "autonumber": ("string", None),
}
CREATABLE_TYPES = {
    "text", "textarea", "email", "phone", "website", "url", "integer", "bigint", "double", "decimal",
    "currency", "percent", "boolean", "date", "datetime", "picklist", "multiselectpicklist", "lookup",
}
# Fields the server itself fills; never taken from a request body.
SYSTEM_FIELDS = ("Created_By", "Modified_By", "Created_Time", "Modified_Time")
TIMESTAMP_FIELDS = frozenset({"Created_Time", "Modified_Time", "Last_Activity_Time"})
API_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*$")
# Zoho's default duplicate-check fields (upsert without duplicate_check_fields; insert checks).
DEFAULT_DUPLICATE_FIELDS: dict[str, tuple[str, ...]] = {
    "Leads": ("Email",), "Contacts": ("Email",), "Accounts": ("Account_Name",), "Invoices": ("Subject",),
    "Products": ("Product_Name",), "Deals": ("Deal_Name",),
}
# Modules Bulk Write refuses (they go through the record APIs).
BULK_REFUSED = frozenset({"Notes", "Events", "Calls"})


@dataclass
class FieldSpec:
    """What validation needs of one field, derived from its Zoho JSON."""

    api_name: str
    data_type: str
    length: int | None
    mandatory: bool
    unique: bool
    external: bool
    read_only: bool
    lookup_module: str | None
    picklist: set[str] = field(default_factory=set)
    subform: "dict[str, FieldSpec] | None" = None


def to_api_name(label: str) -> str:
    """Zoho's derivation: non-alphanumerics become `_`, runs collapse, ends trimmed."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", label.strip()).strip("_")
    return re.sub(r"_+", "_", name)


def valid_api_name(name: str, max_len: int = 50) -> bool:
    return bool(API_NAME_RE.match(name)) and len(name) <= max_len


def _f(api: str, dtype: str, length: int | None = None, mandatory: bool = False, lookup: str | None = None,
       picklist: list[str] | None = None, read_only: bool = False, label: str | None = None) -> dict[str, Any]:
    return {"api_name": api, "data_type": dtype, "length": length, "mandatory": mandatory, "lookup": lookup,
            "picklist": picklist, "read_only": read_only, "label": label or api.replace("_", " ")}


ADDRESS = lambda p: [_f(f"{p}_Street", "text", 250), _f(f"{p}_City", "text", 100), _f(f"{p}_State", "text", 100),  # noqa: E731
                     _f(f"{p}_Code" if p in ("Billing", "Shipping") else f"{p}_Zip", "text", 30),
                     _f(f"{p}_Country", "text", 100)]
LEAD_SOURCES = ["-None-", "Advertisement", "Cold Call", "Employee Referral", "External Referral", "Online Store",
                "Partner", "Public Relations", "Seminar Partner", "Trade Show", "Web Download", "Web Research", "Chat"]
SALUTATIONS = ["-None-", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof."]
PERSON = [_f("Salutation", "picklist", picklist=SALUTATIONS), _f("First_Name", "text", 40),
          _f("Last_Name", "text", 80, mandatory=True), _f("Email", "email"), _f("Secondary_Email", "email"),
          _f("Phone", "phone"), _f("Mobile", "phone"), _f("Fax", "phone"), _f("Lead_Source", "picklist", picklist=LEAD_SOURCES),
          _f("Email_Opt_Out", "boolean"), _f("Description", "textarea", 32_000)]
ACTIVITY_LINKS = [_f("Who_Id", "lookup", lookup="Contacts", label="Contact Name"),
                  _f("What_Id", "multimodulelookup", label="Related To")]

STANDARD_MODULES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "Leads": ("Lead", PERSON + [_f("Company", "text", 200), _f("Designation", "text", 100), _f("Website", "website"),
              _f("Lead_Status", "picklist", picklist=["-None-", "Attempted to Contact", "Contact in Future", "Contacted",
                 "Junk Lead", "Lost Lead", "Not Contacted", "Pre-Qualified", "Not Qualified"]),
              _f("Industry", "picklist", picklist=["-None-", "Healthcare", "Other"]), _f("No_of_Employees", "integer"),
              _f("Annual_Revenue", "currency")] + [_f(n, "text", 100) for n in ("Street", "City", "State", "Zip_Code", "Country")]),
    "Contacts": ("Contact", PERSON + [_f("Account_Name", "lookup", lookup="Accounts"), _f("Date_of_Birth", "date"),
                 _f("Title", "text", 100), _f("Department", "text", 100), _f("Home_Phone", "phone"), _f("Other_Phone", "phone"),
                 _f("Assistant", "text", 100), _f("Reporting_To", "lookup", lookup="Contacts")]
                 + ADDRESS("Mailing") + ADDRESS("Other")),
    "Accounts": ("Account", [_f("Account_Name", "text", 200, mandatory=True), _f("Account_Number", "bigint"),
                 _f("Account_Site", "text", 120), _f("Parent_Account", "lookup", lookup="Accounts"), _f("Phone", "phone"),
                 _f("Fax", "phone"), _f("Website", "website"), _f("Account_Type", "picklist", picklist=["-None-",
                 "Analyst", "Competitor", "Customer", "Distributor", "Integrator", "Investor", "Other", "Partner", "Press",
                 "Prospect", "Reseller", "Supplier", "Vendor"]), _f("Industry", "picklist", picklist=["-None-", "Healthcare", "Other"]),
                 _f("Employees", "integer"), _f("Annual_Revenue", "currency"), _f("Description", "textarea", 32_000)]
                 + ADDRESS("Billing") + ADDRESS("Shipping")),
    "Deals": ("Deal", [_f("Deal_Name", "text", 120, mandatory=True), _f("Amount", "currency"),
              _f("Stage", "picklist", mandatory=True, picklist=["Qualification", "Needs Analysis", "Value Proposition",
                 "Identify Decision Makers", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
                 "Closed Lost to Competition"]), _f("Closing_Date", "date", mandatory=True),
              _f("Account_Name", "lookup", lookup="Accounts"), _f("Contact_Name", "lookup", lookup="Contacts"),
              _f("Probability", "integer"), _f("Type", "picklist", picklist=["-None-", "Existing Business", "New Business"]),
              _f("Lead_Source", "picklist", picklist=LEAD_SOURCES), _f("Next_Step", "text", 100),
              _f("Description", "textarea", 32_000)]),
    "Products": ("Product", [_f("Product_Name", "text", 200, mandatory=True), _f("Product_Code", "text", 100),
                 _f("Product_Active", "boolean"), _f("Product_Category", "picklist", picklist=["-None-", "Hardware", "Software", "CRM Applications"]),
                 _f("Unit_Price", "currency"), _f("Qty_in_Stock", "double"), _f("Taxable", "boolean"),
                 _f("Description", "textarea", 32_000)]),
    "Tasks": ("Task", [_f("Subject", "text", 300, mandatory=True), _f("Due_Date", "date"),
              _f("Status", "picklist", picklist=["Not Started", "Deferred", "In Progress", "Completed", "Waiting for input"]),
              _f("Priority", "picklist", picklist=["High", "Highest", "Low", "Lowest", "Normal"]),
              _f("Closed_Time", "datetime"), _f("Send_Notification_Email", "boolean"), _f("Description", "textarea", 32_000)]
              + ACTIVITY_LINKS),
    "Events": ("Event", [_f("Event_Title", "text", 255, mandatory=True), _f("Start_DateTime", "datetime", mandatory=True),
               _f("End_DateTime", "datetime", mandatory=True), _f("All_day", "boolean"), _f("Venue", "text", 255),
               _f("Participants", "participants"), _f("Description", "textarea", 32_000)] + ACTIVITY_LINKS),
    "Calls": ("Call", [_f("Subject", "text", 300, mandatory=True),
              _f("Call_Type", "picklist", mandatory=True, picklist=["Outbound", "Inbound", "Missed"]),
              _f("Call_Start_Time", "datetime", mandatory=True), _f("Call_Duration", "text", 10),
              _f("Call_Duration_in_seconds", "integer", read_only=True),
              _f("Call_Purpose", "picklist", picklist=["-None-", "Prospecting", "Administrative", "Negotiation", "Demo", "Project", "Desk"]),
              _f("Call_Result", "picklist", picklist=["-None-", "Interested", "Not interested", "No response", "Busy", "Requested more info",
                 "Requested call back", "Invalid number"]),
              _f("Description", "textarea", 32_000)] + ACTIVITY_LINKS),
    "Notes": ("Note", [_f("Note_Title", "text", 255), _f("Note_Content", "textarea", 32_000, mandatory=True),
              _f("Parent_Id", "parent_id", mandatory=True, label="Parent ID")]),
    "Invoices": ("Invoice", [_f("Subject", "text", 255, mandatory=True), _f("Invoice_Date", "date"), _f("Due_Date", "date"),
                 _f("Status", "picklist", picklist=["Created", "Approved", "Delivered", "Paid", "Cancelled"]),
                 _f("Account_Name", "lookup", lookup="Accounts"), _f("Contact_Name", "lookup", lookup="Contacts"),
                 _f("Deal_Name", "lookup", lookup="Deals"), _f("Invoiced_Items", "subform", mandatory=True),
                 _f("Sub_Total", "currency", read_only=True), _f("Discount", "currency"), _f("Tax", "currency"),
                 _f("Adjustment", "currency"), _f("Grand_Total", "currency", read_only=True),
                 _f("Terms_and_Conditions", "textarea", 32_000), _f("Description", "textarea", 32_000)]
                 + ADDRESS("Billing") + ADDRESS("Shipping")),
}
INVOICED_ITEMS = [_f("Product_Name", "lookup", lookup="Products", mandatory=True), _f("Quantity", "double"),
                  _f("List_Price", "currency"), _f("Discount", "currency"), _f("Tax", "currency"),
                  _f("Total", "currency", read_only=True), _f("Net_Total", "currency", read_only=True),
                  _f("Description", "textarea", 2_000)]


def field_json(fid: str, spec: dict[str, Any], custom: bool, module_ids: dict[str, str]) -> dict[str, Any]:
    """Zoho's field metadata JSON for one seed/custom field definition."""
    dtype = spec["data_type"]
    json_type, default_len = DATA_TYPES[dtype]
    out: dict[str, Any] = {
        "id": fid, "api_name": spec["api_name"], "field_label": spec["label"], "display_label": spec["label"],
        "data_type": answered_type(dtype), "json_type": json_type, "length": spec.get("length") or default_len or 0,
        "custom_field": custom, "system_mandatory": bool(spec.get("mandatory")), "read_only": bool(spec.get("read_only")),
        "visible": True, "field_read_only": bool(spec.get("read_only")), "api_type": "Enter", "unique": {},
        "decimal_place": 2 if dtype in ("currency", "double", "decimal") else None, "pick_list_values": [],
    }
    if spec.get("picklist") is not None:
        out["pick_list_values"] = [{"display_value": v, "actual_value": v, "id": f"{fid}{i:03d}", "sequence_number": i + 1,
                                    "type": "used"} for i, v in enumerate(spec["picklist"])]
    if dtype in ("lookup", "ownerlookup", "userlookup") and spec.get("lookup"):
        target = spec["lookup"]
        out["lookup"] = {"module": {"api_name": target, "id": module_ids.get(target, "")}, "display_label": target,
                         "api_name": spec["api_name"], "id": fid}
    return out


def owner_fields() -> list[dict[str, Any]]:
    return [_f("Owner", "ownerlookup", label="Owner"), _f("Created_By", "userlookup", read_only=True),
            _f("Modified_By", "userlookup", read_only=True), _f("Created_Time", "datetime", read_only=True),
            _f("Modified_Time", "datetime", read_only=True)]


def answered_type(dtype: str) -> str:
    """The data type GET /settings/fields names. Notes' Parent_Id (a record of any module) is
    answered as a lookup with no lookup module: the official SDK reads every system-mandatory field
    by a type it knows and fails on an unknown one (*unverified*: no Zoho page lists Notes' fields)."""
    return "lookup" if dtype == "parent_id" else dtype


def internal_type(fj: dict[str, Any]) -> str:
    if fj["api_name"] == "Parent_Id" and fj["data_type"] == "lookup" and not fj.get("lookup"):
        return "parent_id"
    return fj["data_type"]


def to_spec(fj: dict[str, Any], subform: dict[str, FieldSpec] | None = None) -> FieldSpec:
    lookup = (fj.get("lookup") or {}).get("module", {}).get("api_name") if fj.get("lookup") else None
    return FieldSpec(
        api_name=fj["api_name"], data_type=internal_type(fj), length=fj.get("length") or None,
        mandatory=bool(fj.get("system_mandatory")), unique=bool(fj.get("unique")), external=bool(fj.get("external")),
        read_only=bool(fj.get("read_only")), lookup_module=lookup,
        picklist={p["actual_value"] for p in fj.get("pick_list_values") or []}, subform=subform,
    )
