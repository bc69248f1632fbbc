"""Take the README screenshots from a running desk: python scripts/screenshots.py [BASE_URL]."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(f"{BASE}/accounts/login/")
        page.get_by_label("Username").fill("rep1")
        page.get_by_label("Password").fill("desk-demo-2026")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{BASE}/orders/")
        page.screenshot(path=OUT / "orders.png")
        page.locator("table a.mono").first.click()
        page.wait_for_selector("#timeline-h")
        page.screenshot(path=OUT / "order.png", full_page=True)
        page.locator(".page-head .sub a").first.click()
        page.wait_for_selector("#orders-h")
        page.screenshot(path=OUT / "customer.png")
        supervisor = browser.new_page(viewport={"width": 1440, "height": 1100})
        supervisor.goto(f"{BASE}/accounts/login/")
        supervisor.get_by_label("Username").fill("supervisor1")
        supervisor.get_by_label("Password").fill("desk-demo-2026")
        supervisor.get_by_role("button", name="Log in").click()
        supervisor.wait_for_load_state()
        supervisor.select_option("#ui-language", "en")  # supervisor1 reads Hindi; the README is English
        supervisor.wait_for_load_state()
        supervisor.goto(f"{BASE}/reports/?preset=last30")
        supervisor.wait_for_selector("svg[role=img]")
        supervisor.screenshot(path=OUT / "reports.png")
        browser.close()


if __name__ == "__main__":
    main()
