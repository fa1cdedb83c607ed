"""Communication consent as clinic exports carry it: e-mail and SMS opt-outs and the contact method
a patient prefers. A CRM must honour these before any campaign, so the export plants them with
shares a clinic's front desk produces (most patients never opt out; a preference is often
missing) and consistent with what the patient left: no e-mail preference without an address, no
phone or SMS preference without a number."""

from __future__ import annotations

import numpy as np

CONTACT_METHODS = ["email", "phone", "sms", "mail"]
# share of patients preferring each method (the rest: empty, never asked)
CONTACT_METHOD_WEIGHTS = [0.34, 0.28, 0.18, 0.06]
EMAIL_OPT_OUT_RATE = 0.09  # of patients with an address
SMS_OPT_OUT_RATE = 0.14  # of patients with a number


def consent_columns(rng: np.random.Generator, has_email: np.ndarray, has_phone: np.ndarray) -> dict[str, list[str]]:
    """The three consent columns for one chunk of patients (text as exported: true/false, a method
    or empty). `rng` is a stream of its own, so the other columns stay what they were."""
    n = len(has_email)
    p = np.array(CONTACT_METHOD_WEIGHTS + [1 - sum(CONTACT_METHOD_WEIGHTS)])
    method = rng.choice(len(p), n, p=p)
    email_opt_out = has_email & (rng.random(n) < EMAIL_OPT_OUT_RATE)
    sms_opt_out = has_phone & (rng.random(n) < SMS_OPT_OUT_RATE)
    # a preference the patient cannot be reached by falls back to a call, else the post or nothing
    unreachable = ((method == 0) & (~has_email | email_opt_out)) | ((method == 1) & ~has_phone) \
        | ((method == 2) & (~has_phone | sms_opt_out))
    fallback = np.where(has_phone, 1, np.where(rng.random(n) < 0.4, 3, 4))
    method = np.where(unreachable, fallback, method)
    return {
        "email_opt_out": ["true" if v else "false" for v in email_opt_out.tolist()],
        "sms_opt_out": ["true" if v else "false" for v in sms_opt_out.tolist()],
        "preferred_contact_method": [CONTACT_METHODS[m] if m < 4 else "" for m in method.tolist()],
    }
