"""The fake Clio's routes (moto's `urls.py`): path rule, methods, and the `ClioResponses` method that answers:
its own (`list_matters`), or `method:collection` for a generic record view, where every record answers the same
way (`show_record:matters` is `ClioResponses.show_record` for the `matters` collection).

API paths are served with and without `.json` (reference §3.1); `/_fake/` is the fake's own control surface.
"""

from __future__ import annotations

API = "/api/v4"

URL_RULES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("/oauth/authorize", ("GET",), "authorize_page"),
    ("/oauth/authorize", ("POST",), "authorize_decision"),
    ("/oauth/token", ("POST",), "token"),
    ("/oauth/deauthorize", ("POST",), "deauthorize"),
    (f"{API}/users/who_am_i", ("GET",), "who_am_i"),
    (f"{API}/users", ("GET",), "list_users"),
    (f"{API}/users/<int:record_id>", ("GET",), "show_record:users"),
    (f"{API}/matters", ("GET",), "list_matters"),
    (f"{API}/matters/<int:record_id>", ("GET",), "show_record:matters"),
    (f"{API}/matters", ("POST",), "create_record:matters"),
    (f"{API}/matters/<int:record_id>", ("PATCH",), "update_record:matters"),
    (f"{API}/matters/<int:record_id>", ("DELETE",), "delete_record:matters"),
    (f"{API}/matter_stages", ("GET",), "list_matter_stages"),
    (f"{API}/practice_areas", ("GET",), "list_records:practice_areas"),
    (f"{API}/practice_areas/<int:record_id>", ("GET",), "show_record:practice_areas"),
    (f"{API}/contacts", ("GET",), "list_records:contacts"),
    (f"{API}/contacts", ("POST",), "create_record:contacts"),
    (f"{API}/contacts/<int:record_id>", ("GET",), "show_record:contacts"),
    (f"{API}/contacts/<int:record_id>", ("PATCH",), "update_record:contacts"),
    (f"{API}/contacts/<int:record_id>", ("DELETE",), "delete_record:contacts"),
    (f"{API}/activities", ("GET",), "list_activities"),
    (f"{API}/activities", ("POST",), "create_record:activities"),
    (f"{API}/activities/<int:record_id>", ("GET",), "show_record:activities"),
    (f"{API}/activities/<int:record_id>", ("PATCH",), "update_record:activities"),
    (f"{API}/activities/<int:record_id>", ("DELETE",), "delete_record:activities"),
    (f"{API}/billable_matters", ("GET",), "list_billable_matters"),
    (f"{API}/bills", ("GET",), "list_bills"),
    (f"{API}/bills/<int:record_id>", ("GET",), "show_record:bills"),
    (f"{API}/bills/<int:record_id>", ("PATCH",), "update_record:bills"),
    (f"{API}/bills/<int:record_id>", ("DELETE",), "delete_record:bills"),
    (f"{API}/communications", ("GET",), "list_communications"),
    (f"{API}/communications", ("POST",), "create_record:communications"),
    (f"{API}/communications/<int:record_id>", ("GET",), "show_record:communications"),
    (f"{API}/communications/<int:record_id>", ("PATCH",), "update_record:communications"),
    (f"{API}/communications/<int:record_id>", ("DELETE",), "delete_record:communications"),
    (f"{API}/documents", ("GET",), "list_documents"),
    (f"{API}/documents", ("POST",), "create_record:documents"),
    (f"{API}/documents/<int:record_id>", ("GET",), "show_record:documents"),
    (f"{API}/documents/<int:record_id>", ("PATCH",), "update_record:documents"),
    (f"{API}/documents/<int:record_id>", ("DELETE",), "delete_record:documents"),
    (f"{API}/documents/<int:record_id>/download", ("GET",), "download_document"),
    (f"{API}/webhooks", ("GET",), "list_records:webhooks"),
    (f"{API}/webhooks", ("POST",), "create_record:webhooks"),
    (f"{API}/webhooks/<int:record_id>", ("GET",), "show_record:webhooks"),
    (f"{API}/webhooks/<int:record_id>", ("PATCH",), "update_record:webhooks"),
    (f"{API}/webhooks/<int:record_id>", ("DELETE",), "delete_record:webhooks"),
    # The delayed handshake: in the Webhooks tag's text (§11), not a path of Clio's document.
    (f"{API}/webhooks/<int:record_id>/activate", ("PUT",), "activate_webhook"),
    ("/_fake/s3/<version_uuid>", ("PUT",), "fake_s3_put"),
    ("/_fake/s3/<version_uuid>", ("GET",), "fake_s3_get"),
    ("/_fake/switches", ("GET", "POST"), "fake_switches"),
    ("/_fake/tokens/expire", ("POST",), "fake_expire_tokens"),
    ("/_fake/tokens/revoke", ("POST",), "fake_revoke_tokens"),
)
