"""The communication log a clinic's system keeps: reminder calls before visits, patients calling in,
e-mails, SMS, letters and portal messages, each at its original local time.

Volumes follow a front desk's week: most timed visits get a reminder 1-2 days before (a call, or
an SMS for a patient who prefers SMS), a patient exchanges a few e-mails and SMS over the years,
calls in now and then, and prospects call to ask about becoming a patient. Consent is honoured:
no SMS either way with a patient who opted out of SMS, no e-mail with one who opted out of e-mail
(or has no address), no phone or SMS without a number. Nothing is logged after the export date."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHANNELS = ("phone", "sms", "email", "letter", "portal")
PHONE, SMS, EMAIL, LETTER, PORTAL = range(5)

# (subject, body) per kind of exchange; {d} the visit date, {t} its time
REMINDER = ("Appointment reminder", "Reminder of your visit on {d} at {t}. Reply or call us to reschedule.")
INBOUND_CALLS = [("Reschedule request", "Patient asked to move an upcoming visit."),
                 ("Prescription refill question", "Patient asked about a refill; passed to the provider."),
                 ("Billing question", "Patient asked about a statement balance."),
                 ("Test results question", "Patient asked whether results are in.")]
PROSPECT_CALLS = [("New patient inquiry", "Caller asked whether the clinic takes new patients and their insurance."),
                  ("Referral follow-up", "Caller referred by another practice asked about a first visit.")]
OUTBOUND_EMAILS = [("Your visit summary", "Attached is the summary of your recent visit."),
                   ("Annual check-up due", "Our records show your annual check-up is due. Book online or call us."),
                   ("Statement available", "A new statement is available in the patient portal."),
                   ("Intake forms", "Please complete the intake forms before your first visit.")]
INBOUND_EMAILS = [("Question about my visit", "Could you send me the instructions from my last visit?"),
                  ("Insurance change", "I have new insurance from next month; what do you need from me?")]
OUTBOUND_SMS = [("Check-up reminder", "Your check-up is due. Reply YES to be called back."),
                ("Flu shots available", "Flu shots are available this month. Walk-ins welcome.")]
INBOUND_SMS = [("Reply", "YES please call me"), ("Reply", "Running 10 minutes late")]
LETTERS = [("Annual recall letter", "Letter: annual check-up recall."),
           ("Billing statement", "Letter: statement of account mailed.")]
PORTAL_OUT = [("Results released", "New results are available in the portal."),
              ("Message from your care team", "Please let us know how you are feeling after your visit.")]
PORTAL_IN = [("Portal message", "Question about my medication dose."),
             ("Portal message", "Requesting a copy of my records.")]


@dataclass
class PatientFacts:
    """What the chunk writer knows of its patients (arrays of one length)."""

    ids: list[str]
    is_lead: np.ndarray  # Prospect / Referral Inquiry: no visits, may call in
    created: np.ndarray  # day numbers (the generator's epoch)
    has_email: np.ndarray
    has_phone: np.ndarray
    email_opt_out: np.ndarray
    sms_opt_out: np.ndarray
    prefers_sms: np.ndarray
    staff: list[str]  # the patient's primary provider id, or "" (who answers or writes)


@dataclass
class VisitFacts:
    """Timed visits of the chunk (arrays of one length): patient index, day, start minute, provider."""

    patient: np.ndarray
    day: np.ndarray
    minute: np.ndarray
    provider: list[str]


def communication_columns(rng: np.random.Generator, patients: PatientFacts, visits: VisitFacts,
                          export_day: int, date_pool: list[str]) -> dict[str, list[str]]:
    """The communications of one chunk, every column but communication_id, ordered by patient
    then time. `rng` is a stream of its own, so the other files stay what they were for a seed."""
    rows: list[tuple] = []  # (patient, day, second, channel, inbound, provider, subject, body, outcome, duration)
    n = len(patients.ids)
    sms_ok = patients.has_phone & ~patients.sms_opt_out
    email_ok = patients.has_email & ~patients.email_opt_out

    # reminders 1-2 days before most timed visits, never logged after the export date
    m = len(visits.patient)
    lead_days = rng.integers(1, 3, m)
    reminded = (rng.random(m) < 0.8) & (visits.day - lead_days < export_day)
    by_sms = rng.random(m)
    call_minute = rng.integers(9 * 60, 17 * 60, m)
    answer = rng.random(m)
    talk = rng.integers(40, 240, m)
    message = rng.integers(20, 60, m)
    for i in np.flatnonzero(reminded).tolist():
        p = int(visits.patient[i])
        when = f"{date_pool[int(visits.day[i])]}", f"{int(visits.minute[i]) // 60:02d}:{int(visits.minute[i]) % 60:02d}"
        subject, body = REMINDER[0], REMINDER[1].format(d=when[0], t=when[1])
        day, second = int(visits.day[i] - lead_days[i]), int(call_minute[i]) * 60
        provider = visits.provider[i]
        if patients.prefers_sms[p] and sms_ok[p] and by_sms[i] < 0.9:
            rows.append((p, day, second, SMS, False, "", subject, body, "delivered", None))
        elif patients.has_phone[p]:
            outcome, duration = (("answered", int(talk[i])) if answer[i] < 0.6 else
                                 ("voicemail", int(message[i])) if answer[i] < 0.9 else ("no_answer", 0))
            rows.append((p, day, second, PHONE, False, provider, "Reminder call", body, outcome, duration))

    # a patient's own exchanges over the years (Poisson counts per channel)
    def exchanges(channel: int, rate: np.ndarray, inbound_share: float, outbound: list, inbound: list) -> None:
        count = rng.poisson(rate)
        who = np.repeat(np.arange(n), count)
        k = len(who)
        span = np.maximum(export_day - patients.created[who], 1)
        days = patients.created[who] + (rng.random(k) * span).astype(np.int64)
        seconds = rng.integers(8 * 3600, 19 * 3600, k)
        is_in = rng.random(k) < inbound_share
        pick = rng.integers(0, 1000, k)
        fate = rng.random(k)
        talk_k = rng.integers(60, 900, k)
        for j in range(k):
            p = int(who[j])
            subject, body = (inbound if is_in[j] else outbound)[int(pick[j]) % len(inbound if is_in[j] else outbound)]
            staff, duration = patients.staff[p], None
            if channel == PHONE:
                outcome = "answered" if fate[j] < 0.85 else "voicemail" if fate[j] < 0.95 else "no_answer"
                duration = int(talk_k[j]) if outcome == "answered" else int(talk_k[j]) % 60 if outcome == "voicemail" else 0
            elif is_in[j]:
                outcome = "read"
            elif channel == EMAIL:
                outcome = "bounced" if fate[j] < 0.04 else "read" if fate[j] < 0.3 else "delivered"
            elif channel == PORTAL:
                outcome = "read" if fate[j] < 0.6 else "delivered"
            else:
                outcome = "delivered"
            rows.append((p, int(days[j]), int(seconds[j]), channel, bool(is_in[j]), staff, subject, body,
                         outcome, duration))

    patient = ~patients.is_lead
    exchanges(EMAIL, np.where(patient & email_ok, 1.6, 0.0), 0.25, OUTBOUND_EMAILS, INBOUND_EMAILS)
    exchanges(SMS, np.where(patient & sms_ok, 1.2, 0.0), 0.3, OUTBOUND_SMS, INBOUND_SMS)
    exchanges(PHONE, np.where(patients.has_phone, np.where(patient, 0.5, 0.0), 0.0), 1.0, [], INBOUND_CALLS)
    exchanges(PHONE, np.where(patients.has_phone & patients.is_lead, 0.9, 0.0), 1.0, [], PROSPECT_CALLS)
    exchanges(LETTER, np.where(patient, 0.25, 0.0), 0.0, LETTERS, LETTERS)
    exchanges(PORTAL, np.where(patient, 0.35, 0.0), 0.4, PORTAL_OUT, PORTAL_IN)

    rows = [r for r in rows if r[1] < export_day]
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    return {
        "patient_id": [patients.ids[r[0]] for r in rows],
        "provider_id": [r[5] for r in rows],
        "channel": [CHANNELS[r[3]] for r in rows],
        "direction": ["inbound" if r[4] else "outbound" for r in rows],
        "started_at": [f"{date_pool[r[1]]} {r[2] // 3600:02d}:{r[2] // 60 % 60:02d}:{r[2] % 60:02d}" for r in rows],
        "duration_seconds": ["" if r[9] is None else str(r[9]) for r in rows],
        "subject": [r[6] for r in rows],
        "body": [r[7] for r in rows],
        "outcome": [r[8] for r in rows],
    }
