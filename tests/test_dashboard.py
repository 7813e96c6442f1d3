"""The dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright):
sign in, see a document sent during the test and its timeline, requeue a dead letter and see it
delivered, suspend an agency and see its next submission refused. Screenshots go to
test-artifacts/dashboard/."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

from hub.registry import operators
from tests.conftest import random_organ_id
from tests.harness import World, running_hub
from tests.test_ops import dead_letter

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "dashboard"


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
async def page():
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = await browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        yield page
        await browser.close()


async def test_an_operator_signs_in_follows_a_document_requeues_and_suspends(
    world: World, settings, page: Page
) -> None:
    sender, recipient = await world.agency(random_organ_id()), await world.agency(random_organ_id())
    admin = await operators.add(world.session.db, f"admin-{uuid.uuid4().hex[:6]}", "admin")
    document_id = f"{sender.organ_id},2026/11/23,{uuid.uuid4().hex[:6]}/CV"
    async with running_hub(settings, http=True) as base:
        sent = await world.send(
            sender, world.document(sender, [recipient], document_id=document_id)
        )
        assert (await world.receipts(sender, [sent]))[sent].accepted

        # the dashboard runs under a Content-Security-Policy that forbids inline code and
        # framing; a page that broke it would log a violation (checked at the end)
        violations: list[str] = []
        page.on(
            "console",
            lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        # sign in: a wrong token is refused, the right one opens the overview
        response = await page.goto(base + "/")
        assert response is not None
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        await expect(page.locator("h2")).to_have_text("Đăng nhập vận hành")
        await page.fill("#token", "not-a-token")
        await page.click("#signin button[type=submit]")
        await expect(page.locator("#signin-error")).to_have_text("Mã truy cập không hợp lệ")
        await page.fill("#token", admin.token)
        await page.click("#signin button[type=submit]")
        await expect(page.locator("#who")).to_contain_text(admin.name)
        # the document sent during the test is on the overview (recent documents)
        await expect(page.locator("#recent")).to_contain_text(document_id, timeout=15000)
        await shot(page, "1-overview-vi")
        await page.click("#lang")
        await expect(page.locator("#nav a").first).to_have_text("Overview")
        await expect(page.locator("#recent h2")).to_have_text("Recent documents")
        await shot(page, "2-overview-en")

        # its timeline
        await page.locator("#recent a", has_text=document_id).click()
        await expect(page.locator("#events [data-event=accepted]")).to_be_visible()
        await expect(page.locator("#events [data-event=delivered]")).to_be_visible()
        await shot(page, "3-timeline")

        # a dead letter, requeued from the dead-letter page, is then delivered
        lost_id = f"{sender.organ_id},2026/11/23,{uuid.uuid4().hex[:6]}/CV"
        lost = world.document(sender, [recipient], document_id=lost_id)
        letter = await dead_letter(world, lost, sender.organ_id, "hub error: disk full")
        await page.click("#nav a[href='#/dead']")
        button = page.locator(f"[data-requeue='{letter}']")
        await expect(button).to_be_visible()
        await shot(page, "4-dead-letters")
        await button.click()
        await expect(page.locator("#dead-result")).to_contain_text(letter)
        await expect(page.locator(f"[data-requeue='{letter}']")).to_have_count(0)
        assert (await world.receipts(sender, [letter]))[letter].accepted
        await page.goto(f"{base}/#/document/{lost_id}")
        await expect(page.locator("#events [data-event=delivered]")).to_be_visible(timeout=15000)
        await shot(page, "5-requeued-delivered")

        # the agency tree (one level at a time) and an agency's place in it: its system
        await page.goto(f"{base}/#/agencies")
        await expect(page.locator("#tree")).to_contain_text(sender.organ_id)
        await page.fill("#tree-search input[name=q]", sender.organ_id)
        await page.click("#tree-search button[type=submit]")
        await expect(page.locator("#tree")).to_contain_text(sender.organ_id)
        await expect(page.locator("#tree")).not_to_contain_text(recipient.organ_id)
        await shot(page, "5b-agency-tree")

        # suspend the sender from its agency page; its next submission is refused
        await page.goto(f"{base}/#/agency/{sender.organ_id}")
        await expect(page.locator("#system")).to_have_text(sender.organ_id)
        await page.click("#suspend")
        await expect(page.locator("#state")).to_have_text("suspended")
        await shot(page, "6-agency-suspended")
        await asyncio.sleep(2.5)  # the registry snapshot follows within seconds
        after = await world.send(sender, world.document(sender, [recipient]))
        assert (await world.receipts(sender, [after]))[after].code == "SENDER_SUSPENDED"
        await page.click("#nav a[href='#/actions']")
        await expect(page.locator("main")).to_contain_text("agency.suspend")
        await expect(page.locator("main")).to_contain_text("dead_letter.requeue")
        await shot(page, "7-actions")
        assert violations == [], violations
