"""The CRM's verbs, one module per subject: every change to creators, campaigns, content, permission
requests, the consent ledger and contactability goes through these functions.

Each takes model objects and an actor (a user, or None for the system, which must then name the
rule that decided), runs in one transaction, and raises `crm.errors.DomainError` by field. Views,
API, tasks and commands call them; none of them decides on its own.

| module | subject |
|---|---|
| `ledger` | append an entry to a creator's hash chain, evidence texts, verify the chain |
| `contact` | opt-outs, opt-ins, contact consents |
| `rights` | permission requests, their decisions, proof, expiry |
| `creators` | creators, accounts, tags, erasure of the CRM's personal data |
| `campaigns` | campaigns and their members |
| `content` | posts to reuse |
| `corrections` | an entry recorded in error, voided by a new entry |
| `tokens` | API tokens |
| `column_mappings` | the creator importer's saved column mappings |

New code imports the subject module (`from crm.services import rights`); the names below are the
package's public surface, kept so `services.grant_rights(...)` reads well at call sites and in tests.
"""

from crm.errors import DomainError, TransitionNotAllowed
from crm.services.bulk import add_matching_to_campaign, count_matching, creator_batches, tag_matching
from crm.services.campaigns import (
    add_to_campaign,
    check_assignee,
    create_campaign,
    move_member,
    remove_member,
    update_campaign,
    update_member,
)
from crm.services.contact import allow_contact, derive_contactability, opt_in, opt_out
from crm.services.content import add_content
from crm.services.corrections import void_entry
from crm.services.creators import (
    MAX_FOLLOWERS,
    add_social_account,
    create_creator,
    create_tag,
    erase_creator_personal_data,
    save_accounts,
    tag_creators,
    tag_named,
    update_creator,
)
from crm.services.ledger import SYSTEM_LABEL, Evidence, keep_evidence_text, record_consent_event, verify_ledger
from crm.services.merge import merge_creators
from crm.services.rights import (
    MAX_DURATION_DAYS,
    Scope,
    decline_rights,
    derive_permission_status,
    expire_due_permissions,
    expire_rights,
    grant_rights,
    mark_permission_requested,
    permission_proof,
    request_permission,
    revoke_rights,
    rights_expiring,
)
from crm.services.tokens import create_api_token, revoke_api_token

__all__ = [
    "MAX_DURATION_DAYS",
    "MAX_FOLLOWERS",
    "SYSTEM_LABEL",
    "DomainError",
    "Evidence",
    "Scope",
    "TransitionNotAllowed",
    "add_content",
    "add_matching_to_campaign",
    "add_social_account",
    "add_to_campaign",
    "allow_contact",
    "check_assignee",
    "count_matching",
    "create_api_token",
    "create_campaign",
    "create_creator",
    "create_tag",
    "creator_batches",
    "decline_rights",
    "derive_contactability",
    "derive_permission_status",
    "erase_creator_personal_data",
    "expire_due_permissions",
    "expire_rights",
    "grant_rights",
    "keep_evidence_text",
    "mark_permission_requested",
    "merge_creators",
    "move_member",
    "opt_in",
    "opt_out",
    "permission_proof",
    "record_consent_event",
    "remove_member",
    "request_permission",
    "revoke_api_token",
    "revoke_rights",
    "rights_expiring",
    "save_accounts",
    "tag_creators",
    "tag_matching",
    "tag_named",
    "update_campaign",
    "update_creator",
    "update_member",
    "verify_ledger",
    "void_entry",
]
