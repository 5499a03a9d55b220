"""The load test's one browser user: one UI interaction a loop, timed from click to visible (§8.3)."""

from __future__ import annotations

import time
import uuid

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
DEPOSITS = [(1000, "€10,00"), (2000, "€20,00"), (5000, "€50,00"), (10000, "€100,00"), (20000, "€200,00")]
TRANSFERS = [
    ("11,11", "drinks"),
    ("23,23", "parking"),
    ("34,89", "groceries"),
    ("99,99", "present"),
    ("210,78", "fine"),
]
COMPANY_IBAN = "NL66OPEN0000000000"
NEWEST_ID = "document.querySelector('#transactions .transaction')?.dataset.id ?? null"
# Resolves once the new entry tops the feed, or false after `ms`: woken by the page's own changes, not by
# polling every frame (which kept Chromium drawing frames the whole time it waited).
SHOWN_WITHIN = """([before, expected, ms]) => new Promise((resolve) => {
  const shown = () => {
    const newest = document.querySelector('#transactions .transaction');
    return newest !== null && newest.dataset.id !== before && newest.querySelector('.amount')?.innerText === expected;
  };
  if (shown()) return resolve(true);
  const observer = new MutationObserver(() => shown() && finish(true));
  const timer = setTimeout(() => finish(false), ms);
  function finish(seen) { observer.disconnect(); clearTimeout(timer); resolve(seen); }
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
})"""


class BrowserUser:
    def __init__(self, web_url: str) -> None:
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"]
        )
        self.page = self._browser.new_page(viewport={"width": 1280, "height": 900})
        username = f"loadtest-{uuid.uuid4().hex[:8]}"
        self.page.goto(f"{web_url}/client/")
        self.page.fill("#login-form input[name=username]", username)
        self.page.fill("#login-form input[name=password]", username)
        self.page.click("#login-form button")
        self.page.wait_for_selector("#deposit-1000", timeout=30_000)

    def interact(self, loop: int, max_ms: int) -> float | None:
        """Deposit (loops ending 0-4) or transfer to the company (5-9); return ms until it shows, None on time-out."""
        step = loop % 10
        before = self.page.evaluate(NEWEST_ID)
        if step < 5:
            cents, expected = DEPOSITS[step]
            started = time.perf_counter()
            self.page.click(f"#deposit-{cents}")
        else:
            amount, description = TRANSFERS[step - 5]
            expected = f"€{amount}"
            self.page.fill("#transfer-form input[name=amount]", amount)
            self.page.fill("#transfer-form input[name=to]", COMPANY_IBAN)
            self.page.fill("#transfer-form input[name=description]", description)
            started = time.perf_counter()
            self.page.click("#transfer-form button")
        remaining_ms = max_ms - (time.perf_counter() - started) * 1000
        if not self.page.evaluate(SHOWN_WITHIN, [before, expected, max(remaining_ms, 1)]):
            return None
        return (time.perf_counter() - started) * 1000

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()
