"""Seed 002's PMS → Operate patterns, driven only from the PMS side, on the one virtual clock.

The demo PMS (in process, `fake = "demo"`) incepts matters, pays disbursements, receives invoice payments
and keeps suppliers; its delivery worker (`pms_adapters/demo/delivery.py`, a cron job on the emulator's
scheduler) sends each to Operate's public API with the PMS's own OAuth client (`demo-pms`, client
credentials). Each test acts on the PMS (its API, its CLI or its web page) and moves the clock: nothing
calls Operate by hand. Hostile cases: users trying a transition the solution reserves for the
integration, supplier tags spelled every way, and deliveries that fail (Operate down or refusing).
"""

from __future__ import annotations

import pytest

ORG_UI = "/api/ods/organisation"
ORG_API = "/api/v2/public/organisation"


# -- suppliers are mastered in the PMS: the refusal reads the tag as a person does ----------------


@pytest.mark.parametrize(
    "tag",
    [
        "supplier",
        "Supplier",
        "SUPPLIER",
        " supplier",
        "supplier ",
        "\tSupplier\n",
        "sup\u200bplier",
        "\uff53\uff55\uff50\uff50\uff4c\uff49\uff45\uff52",
        "\u017fupplier",
    ],  # fmt: skip
)
def test_the_ui_cannot_create_a_supplier_whatever_the_spelling_of_the_tag(operate, tag):
    api = operate.api()
    refused = api.post(ORG_UI, {"name": "Swift Process Servers", "tags": ["client", tag]})
    assert refused.status_code == 403, (tag, refused.get_data(as_text=True))
    assert "supplier organisations are mastered in the PMS" in refused.json["title"]
    created = api.post(ORG_API, {"name": "Swift Process Servers", "tags": [tag]})
    assert created.status_code == 201  # the integration's own route takes it


def test_a_tag_that_only_looks_alike_is_not_a_supplier(operate):
    api = operate.api()
    for tag in ("suppliers", "sup plier", "supplier-x"):
        assert api.post(ORG_UI, {"name": f"Org {tag}", "tags": [tag]}).status_code == 201
