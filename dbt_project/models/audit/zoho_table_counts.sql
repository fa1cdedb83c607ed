-- Every record the clinic model maps to a Zoho module is a row of that module's table (and no
-- more): joins in the Zoho models neither drop nor duplicate records.
{%- set targets = [
    ('int_clinics', "exclusion_rule is null", 'zoho_accounts', 'count(*)'),
    ('int_patients', "exclusion_rule is null and zoho_module = 'Contacts'", 'zoho_contacts', 'count(*)'),
    ('int_patients', "exclusion_rule is null and zoho_module = 'Leads'", 'zoho_leads', 'count(*)'),
    ('int_appointments', "exclusion_rule is null and zoho_module = 'Events'", 'zoho_events', 'count(*)'),
    ('int_appointments', "exclusion_rule is null and zoho_module = 'Tasks'", 'zoho_tasks', 'count(*)'),
    ('int_insurance_plans', "exclusion_rule is null", 'zoho_insurance', 'count(*)'),
    ('int_claims', "exclusion_rule is null", 'zoho_billing_history', 'count(*)'),
    ('int_claims', "exclusion_rule is null and balance > 0", 'zoho_invoices', 'count(*)'),
    ('int_treatments', "exclusion_rule is null", 'zoho_treatments', 'count(*)'),
    ('int_notes', "exclusion_rule is null", 'zoho_notes', 'count(distinct Source_Note_Id)'),
    ('int_documents', "exclusion_rule is null", 'zoho_attachments', 'count(*)'),
    ('int_care_programs', "exclusion_rule is null", 'zoho_care_programs', 'count(*)'),
    ('int_program_enrollments', "exclusion_rule is null", 'zoho_program_enrollments', 'count(*)'),
    ('int_communications', "exclusion_rule is null and zoho_module = 'Calls'", 'zoho_calls', 'count(*)'),
    ('int_communications', "exclusion_rule is null and zoho_module = 'Communications'", 'zoho_communications',
     'count(*)'),
] %}
{%- for clinic_model, condition, zoho_model, zoho_count in targets %}
    select
        '{{ clinic_model }}' as clinic_model,
        '{{ zoho_model }}' as zoho_model,
        (
            select count(*) from {{ ref(clinic_model) }}
            where {{ condition }}
        ) as mapped_records,
        (select {{ zoho_count }} from {{ ref(zoho_model) }}) as zoho_records
    {%- if not loop.last %}
        union all
    {%- endif %}
{%- endfor %}
