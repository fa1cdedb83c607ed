"""Workflow definitions a clinic system exports (they are rebuilt in Zoho by hand, not migrated)."""

from __future__ import annotations

WORKFLOWS: list[dict] = [
    {"workflow_id": "wf-1", "name": "No-show follow-up", "active": True,
     "trigger": {"type": "record_updated", "entity": "appointments", "condition": "outcome = 'no-show'"},
     "actions": [{"type": "send_email", "template": "Missed visit"},
                 {"type": "create_task", "subject": "Call patient", "due_in_days": 1}]},
    {"workflow_id": "wf-2", "name": "Appointment reminder", "active": True,
     "trigger": {"type": "scheduled", "entity": "appointments", "condition": "outcome = 'scheduled'",
                 "offset": "-P1D", "at": "09:00"},
     "actions": [{"type": "send_sms", "template": "Reminder: your visit tomorrow at {start_time}"}]},
    {"workflow_id": "wf-3", "name": "Referral inquiry triage", "active": True,
     "trigger": {"type": "record_created", "entity": "patients", "condition": "status = 'Referral Inquiry'"},
     "actions": [{"type": "assign_owner", "rule": "round_robin", "pool": "front desk"},
                 {"type": "create_task", "subject": "Call back referral within 24 h", "due_in_days": 1}]},
    {"workflow_id": "wf-4", "name": "Claim denied alert", "active": True,
     "trigger": {"type": "field_changed", "entity": "claims", "field": "status", "condition": "status = 'denied'"},
     "actions": [{"type": "notify_user", "role": "billing"},
                 {"type": "update_field", "field": "appeal_due", "value": "service_date + 60 days"}]},
    {"workflow_id": "wf-5", "name": "Annual physical recall", "active": False,
     "trigger": {"type": "scheduled", "entity": "patients",
                 "condition": "status = 'Active' AND last_physical < today - 365"},
     "actions": [{"type": "send_email", "template": "Time for your annual physical"},
                 {"type": "webhook", "url": "https://portal.example/recall", "method": "POST"}]},
    {"workflow_id": "wf-6", "name": "Care program enrolment welcome", "active": True,
     "trigger": {"type": "record_created", "entity": "program_enrollments", "condition": "role = 'participant'"},
     "actions": [{"type": "send_email", "template": "Welcome to {program.name}"},
                 {"type": "custom_function", "language": "javascript",
                  "body": "if (patient.age > 65) { schedule('Fall risk screening', 14); }"}]},
]
