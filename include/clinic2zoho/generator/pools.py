"""Word pools the generator draws from. Small, fixed lists: rows are built by indexing them, which
keeps a million-patient export cheap. Some names carry accents that exist in cp1252 (é, ñ, ö, ç)
so that encoding handling is exercised; nothing here is outside cp1252."""

from __future__ import annotations

CLINIC_NAME = "Riverside Family Clinic"
CLINIC_TIMEZONE = "America/New_York"
EXPORTED_AT = "2026-11-20T18:00:00-05:00"
EXPORT_DATE = "2026-11-20"
STAFF_DOMAIN = "riverside-clinic.example"
# Where the clinic publishes its documents (the manifest's document_url_base): documents over Zoho's
# attachment limit are linked there. A reserved .example host: the demo's links lead nowhere real.
DOCUMENT_URL_BASE = "https://documents.riverside-clinic.example/export"

CLINICS = [
    ("CL001", "Riverside Family Clinic - Main Street", "(617) 555-0100", "frontdesk@riverside-clinic.example",
     "https://riverside-clinic.example", "120 Main Street", "Cambridge", "MA", "02139"),
    ("CL002", "Riverside Family Clinic - Northside", "(617) 555-0140", "northside@riverside-clinic.example",
     "https://riverside-clinic.example/northside", "45 Elm Avenue, Suite 2", "Somerville", "MA", "02144"),
    ("CL003", "Riverside Pédiatrie & Family Care", "(781) 555-0190", "",
     "", "9 Harbor Road", "Quincy", "MA", "02169"),
]

FEMALE_FIRST = [
    "Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Barbara", "Susan", "Jessica", "Sarah", "Karen",
    "Lisa", "Nancy", "Betty", "Margaret", "Sandra", "Ashley", "Kimberly", "Emily", "Donna", "Michelle",
    "Carol", "Amanda", "Dorothy", "Melissa", "Deborah", "Stephanie", "Rebecca", "Sharon", "Laura", "Cynthia",
    "Kathleen", "Amy", "Angela", "Shirley", "Anna", "Brenda", "Pamela", "Emma", "Nicole", "Helen",
    "Samantha", "Katherine", "Christine", "Debra", "Rachel", "Carolyn", "Janet", "Catherine", "Maria", "Heather",
    "Zoë", "Renée", "Chloé", "Inés", "María José", "Françoise", "Siobhán", "Björk", "Anaïs", "Noémie",
]
MALE_FIRST = [
    "James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas", "Charles",
    "Christopher", "Daniel", "Matthew", "Anthony", "Mark", "Donald", "Steven", "Paul", "Andrew", "Joshua",
    "Kenneth", "Kevin", "Brian", "George", "Timothy", "Ronald", "Edward", "Jason", "Jeffrey", "Ryan",
    "Jacob", "Gary", "Nicholas", "Eric", "Jonathan", "Stephen", "Larry", "Justin", "Scott", "Brandon",
    "Benjamin", "Samuel", "Gregory", "Alexander", "Frank", "Patrick", "Raymond", "Jack", "Dennis", "Jerry",
    "José", "André", "François", "Jürgen", "Søren", "Joaquín", "Ramón", "Noël", "Jean-Luc", "Côme",
]
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
    "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
    "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
    "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
    "O'Brien", "O'Connor", "McCarthy", "Sullivan", "Fitzgerald", "Kowalski", "Nowak", "Schmidt", "Becker", "Weber",
    "Müller", "Peña", "Núñez", "Gonçalves", "Søndergaard", "Lefèvre", "Brontë", "Ibáñez", "Dubois", "Fernández",
    "Van der Berg", "De la Cruz", "St. John", "Nakamura", "Tanaka", "Chen", "Wang", "Singh", "Okafor", "Haddad",
]
STREETS = [
    "Main Street", "Oak Avenue", "Maple Street", "Cedar Lane", "Pine Street", "Elm Street", "Washington Street",
    "Lake Road", "Hill Street", "Park Avenue", "Highland Avenue", "Beacon Street", "Massachusetts Avenue",
    "Broadway", "Summer Street", "Harvard Street", "Prospect Street", "Centre Street", "Water Street",
    "School Street", "Chestnut Street", "Walnut Street", "Spring Street", "Union Street", "Pleasant Street",
]
UNITS = ["", "", "", "", "", "", "Apt 2", "Apt 3B", "Unit 12", "#4", "Suite 100", "Apt 1A"]
CITIES = [
    ("Boston", "MA", "02118"), ("Cambridge", "MA", "02139"), ("Somerville", "MA", "02144"),
    ("Quincy", "MA", "02169"), ("Newton", "MA", "02458"), ("Brookline", "MA", "02445"),
    ("Medford", "MA", "02155"), ("Malden", "MA", "02148"), ("Waltham", "MA", "02453"),
    ("Arlington", "MA", "02474"), ("Everett", "MA", "02149"), ("Revere", "MA", "02151"),
    ("Lynn", "MA", "01902"), ("Salem", "MA", "01970"), ("Lowell", "MA", "01852"),
    ("Worcester", "MA", "01608"), ("Framingham", "MA", "01702"), ("Providence", "RI", "02903"),
    ("Nashua", "NH", "03060"), ("Pawtucket", "RI", "02860"),
]
AREA_CODES = ["617", "857", "781", "339", "508", "774", "978", "351", "401", "603"]
EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com",
                 "comcast.net", "verizon.net", "protonmail.com"]

SPECIALTIES = ["Family Medicine", "Internal Medicine", "Pediatrics", "Physical Therapy", "Cardiology",
               "Dermatology", "Nurse Practitioner", "Physician Assistant", "Behavioral Health", "Nutrition"]

# Referral sources as clinics type them: the same channel spelled several ways, so the mapping
# needs a value map onto Zoho's Lead Source pick-list.
REFERRAL_SOURCES = [
    ("RS01", "Google", "Online"),
    ("RS02", "google ads", "online "),
    ("RS03", "Facebook", "Social Media"),
    ("RS04", "Insta", "social"),
    ("RS05", "Physician Referral", "Physician"),
    ("RS06", "Dr. referral (outside MD)", "MD Referral"),
    ("RS07", "Word of mouth", "Word of Mouth"),
    ("RS08", "Friend/Family", "WOM"),
    ("RS09", "Insurance directory", "Insurance"),
    ("RS10", "Walk-in", "Walk In"),
    ("RS11", "Yelp", "Online"),
    ("RS12", "Radio – WBZ ad", "Advertising"),
    ("RS13", "Employer wellness fair", "Events"),
    ("RS14", "Website form", "Web"),
    ("RS15", "Other", ""),
]

PATIENT_STATUSES = ["Active", "Inactive", "Deceased", "Prospect", "Referral Inquiry"]
PATIENT_STATUS_WEIGHTS = [0.68, 0.15, 0.02, 0.09, 0.06]

APPOINTMENT_TYPES = ["New Patient", "Follow-up", "Annual Physical", "Sick Visit", "Telehealth",
                     "Physical Therapy", "Vaccination", "Lab Review", "Consultation"]
REASONS = [
    "Annual checkup", "Follow-up on blood pressure", "Back pain", "Persistent cough", "Knee pain after fall",
    "Medication refill", "Flu shot", "Diabetes management", "Sore throat, fever", "Anxiety, trouble sleeping",
    "Lab results review", "Rash on forearm", "Headaches, 2 weeks", "Pre-op clearance", "Well-child visit",
    "Shoulder rehab – session", "Allergy consultation", "Weight management", "Chest tightness (resolved)",
    "Ear infection \"again\"",
]
PAST_OUTCOMES = ["completed", "no-show", "cancelled"]
PAST_OUTCOME_WEIGHTS = [0.82, 0.07, 0.11]

CARRIERS = ["Blue Cross Blue Shield of MA", "Harvard Pilgrim", "Tufts Health Plan", "Aetna", "Cigna",
            "UnitedHealthcare", "Medicare", "MassHealth", "Humana", "Fallon Health"]
COVERAGE_TYPES = ["PPO", "HMO", "EPO", "POS", "Medicare Part B", "Medicaid", "HDHP"]

CLAIM_STATUSES = ["draft", "submitted", "pending", "paid", "partially_paid", "denied", "appealed", "written_off"]
CLAIM_STATUS_WEIGHTS = [0.03, 0.08, 0.10, 0.55, 0.12, 0.06, 0.03, 0.03]

# (code_system, code, description, price)
PROCEDURES = [
    ("CPT", "99213", "Office visit, established patient, low complexity", 110.0),
    ("CPT", "99214", "Office visit, established patient, moderate complexity", 165.0),
    ("CPT", "99203", "Office visit, new patient, low complexity", 170.0),
    ("CPT", "99396", "Preventive visit, 40-64 years", 245.0),
    ("CPT", "99392", "Preventive visit, 1-4 years", 190.0),
    ("CPT", "97110", "Therapeutic exercise, each 15 minutes", 45.0),
    ("CPT", "97140", "Manual therapy, each 15 minutes", 48.0),
    ("CPT", "90471", "Immunization administration", 28.0),
    ("CPT", "36415", "Routine venipuncture", 12.0),
    ("CPT", "93000", "Electrocardiogram, complete", 60.0),
    ("CPT", "81002", "Urinalysis, non-automated", 9.5),
    ("CPT", "90834", "Psychotherapy, 45 minutes", 140.0),
    ("CPT", "99441", "Telephone E/M, 5-10 minutes", 40.0),
    ("HCPCS", "G0439", "Annual wellness visit, subsequent", 135.0),
    ("HCPCS", "J1100", "Injection, dexamethasone sodium phosphate, 1 mg", 6.0),
    ("HCPCS", "G0008", "Administration of influenza virus vaccine", 25.0),
    ("ICD10PCS", "0QS604Z", "Reposition right upper femur with internal fixation", 1850.0),
    ("ICD10PCS", "3E0234Z", "Introduction of serum, toxoid and vaccine into muscle", 30.0),
]
TREATMENT_OUTCOMES = ["resolved", "improved", "ongoing", "no change", "referred", ""]

NOTE_TYPES = ["Progress Note", "SOAP Note", "Phone Call", "Intake", "Discharge Summary", "Lab Follow-up"]
COMPLAINTS = [
    "Patient reports intermittent lower back pain, worse in the morning.",
    "Cough for 10 days, no fever, mild wheezing at night.",
    "Follow-up for hypertension; home readings 135/85 on average.",
    "Reports improved sleep since starting CBT; still some anxiety at work.",
    "Knee pain after a fall on ice; able to bear weight.",
    "Mother says the child has had ear pain since Tuesday.",
    "Blood sugar log reviewed; fasting values 110–140 mg/dL.",
    "Rash on left forearm, itchy, no new soaps or detergents.",
    "Café worker with repetitive strain in right wrist.",
    "Patient asked about the “new” cholesterol medication seen on TV.",
]
ASSESSMENTS = [
    "Mechanical low back pain, no red flags.", "Likely post-viral cough.", "Essential hypertension, controlled.",
    "Generalized anxiety disorder, improving.", "Knee sprain, grade I.", "Acute otitis media, left.",
    "Type 2 diabetes mellitus without complications.", "Contact dermatitis.", "Tendinopathy of right wrist.",
    "Hyperlipidemia; discussed options.",
]
PLANS = [
    "Ibuprofen 400 mg as needed, stretching program, return in 4 weeks.",
    "Supportive care; return if fever or shortness of breath.",
    "Continue lisinopril 10 mg daily; recheck in 3 months.",
    "Continue CBT weekly; reassess in 6 weeks.",
    "RICE, knee brace, physical therapy referral.",
    "Amoxicillin 90 mg/kg/day for 10 days.",
    "Metformin 500 mg BID; HbA1c in 3 months.",
    "Hydrocortisone 1% cream BID for 7 days.",
    "Wrist splint at night; ergonomic review.",
    "Start atorvastatin 20 mg; lipid panel in 8 weeks.",
]

DOCUMENT_TYPES = [
    ("Lab Result", "lab_results", ".pdf", "application/pdf"),
    ("Referral Letter", "referral_letter", ".pdf", "application/pdf"),
    ("Consent Form", "consent_form", ".pdf", "application/pdf"),
    ("Insurance Card", "insurance_card", ".jpg", "image/jpeg"),
    ("X-Ray", "xray", ".png", "image/png"),
    ("Scanned Intake", "intake_scan", ".tiff", "image/tiff"),
]

CARE_PROGRAMS = [
    ("CP01", "Diabetes Management", "Quarterly HbA1c checks, nutrition coaching and foot exams."),
    ("CP02", "Cardiac Rehab", "Supervised exercise and education after a cardiac event."),
    ("CP03", "Weight Management", "12-week program with a dietitian and monthly weigh-ins."),
    ("CP04", "Smoking Cessation", "Counselling plus nicotine replacement therapy."),
    ("CP05", "Prenatal Care", "Visits and classes from first trimester to delivery."),
    ("CP06", "Chronic Pain", "Physical therapy, CBT for pain and medication review."),
    ("CP07", "Hypertension Control", "Home blood-pressure monitoring with nurse follow-up."),
    ("CP08", "Fall Prevention", "Balance training and home-safety review for patients over 65."),
]
ENROLLMENT_ROLES = ["participant", "participant", "participant", "participant", "caregiver", "peer mentor"]
