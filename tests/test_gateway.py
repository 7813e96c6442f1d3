"""The HTTP gateway, end to end against the real hub."""

from __future__ import annotations

import httpx

from hub.http.gateway import receipt_location
from tests.conftest import random_organ_id
from tests.harness import World, parse_receipt, running_hub


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_submit_receive_answer_over_http(world: World, settings) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    body = world.document(sender, [recipient])
    async with (
        running_hub(settings, http=True) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        headers = {
            **auth(sender.credentials.http_token),
            "Idempotency-Key": "gw-1",
            "Content-Type": "application/xml",
        }
        response = await client.post("/api/v1/documents", content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        receipt = parse_receipt(response.content)
        assert (receipt.outcome, receipt.message_id) == ("accepted", "gw-1")
        again = await client.post("/api/v1/documents", content=body, headers=headers)
        assert again.content == response.content  # idempotent
        fetched = await client.get(
            "/api/v1/receipts/gw-1", headers=auth(sender.credentials.http_token)
        )
        assert fetched.status_code == 200 and fetched.content == response.content
        missing = await client.get(
            "/api/v1/receipts/nope", headers=auth(sender.credentials.http_token)
        )
        assert missing.status_code == 404

        # the recipient reads its inbox over HTTP
        listed = (
            await client.get("/api/v1/inbox", headers=auth(recipient.credentials.http_token))
        ).json()
        assert [m["type"] for m in listed["messages"]] == ["edoc"]
        message = listed["messages"][0]
        assert message["document_id"] == receipt.document_id
        fetched = await client.get(message["href"], headers=auth(recipient.credentials.http_token))
        assert fetched.content == body and fetched.headers["X-Lienthong-Type"] == "edoc"
        ack = await client.post(
            message["href"] + "/ack", headers=auth(recipient.credentials.http_token)
        )
        assert ack.status_code == 204
        assert (
            await client.post(
                message["href"] + "/ack", headers=auth(recipient.credentials.http_token)
            )
        ).status_code == 204
        listed = (
            await client.get("/api/v1/inbox", headers=auth(recipient.credentials.http_token))
        ).json()
        assert listed["messages"] == [] and listed["total"] == 0
        unknown = await client.post(
            "/api/v1/inbox/nope/ack", headers=auth(recipient.credentials.http_token)
        )
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")

        # and answers with statuses
        for code in ("01", "03"):
            status = world.status(recipient, sender.organ_id, receipt.document_id or "", code)
            answered = await client.post(
                "/api/v1/statuses",
                content=status,
                headers={**auth(recipient.credentials.http_token), "Idempotency-Key": f"st-{code}"},
            )
            assert parse_receipt(answered.content).outcome == "accepted", answered.text
        # the sender sees its receipt and both statuses in its inbox, over HTTP too
        listed = (
            await client.get("/api/v1/inbox", headers=auth(sender.credentials.http_token))
        ).json()
        assert sorted(m["type"] for m in listed["messages"]) == ["receipt", "status", "status"]

        # an Idempotency-Key with "/" (the demo uses DocumentIds): its receipt stays pollable
        slashed = {**headers, "Idempotency-Key": "000.00.00.G22,2026/12/05,1/VP"}
        other = world.document(sender, [recipient])
        made = await client.post("/api/v1/documents", content=other, headers=slashed)
        assert made.status_code == 200
        location = receipt_location("000.00.00.G22,2026/12/05,1/VP")
        assert location == "/api/v1/receipts/000.00.00.G22%2C2026%2F12%2F05%2C1%2FVP"
        polled = await client.get(location, headers=auth(sender.credentials.http_token))
        assert polled.status_code == 200 and polled.content == made.content


async def test_the_token_is_bound_to_its_agency(world: World, settings) -> None:
    sender, other, recipient = [await world.agency(random_organ_id()) for _ in range(3)]
    async with (
        running_hub(settings, http=True) as base,
        httpx.AsyncClient(base_url=base, timeout=30) as client,
    ):
        # a package of `sender` submitted with `other`'s token
        response = await client.post(
            "/api/v1/documents",
            content=world.document(sender, [recipient]),
            headers=auth(other.credentials.http_token),
        )
        assert parse_receipt(response.content).code == "SENDER_MISMATCH"
        nobody = await client.post("/api/v1/documents", content=b"<x/>")
        assert nobody.status_code == 401
        assert nobody.headers["content-type"].startswith("application/problem+json")
        wrong = await client.post("/api/v1/documents", content=b"<x/>", headers=auth("lt_forged"))
        assert wrong.status_code == 401
        broken = await client.post(
            "/api/v1/documents", content=b"not xml", headers=auth(sender.credentials.http_token)
        )
        assert parse_receipt(broken.content).code == "XML_MALFORMED"
        spec = (await client.get("/openapi.json")).json()
        for path in (
            "/api/v1/documents",
            "/api/v1/statuses",
            "/api/v1/inbox",
            "/api/v1/inbox/{message_id}",
            "/api/v1/inbox/{message_id}/ack",
            "/api/v1/receipts/{message_id}",
            "/api/v1/hub/certificate",
            "/healthz",
        ):
            assert path in spec["paths"], path
