"""Take screenshots of the running app (for the README and for reviewing pages).

Usage: .venv/bin/python docs/screenshots.py http://127.0.0.1:5000 OUTDIR [path ...]
Signs in with the demo staff account; shoots each path at desktop and phone width in both
languages. Uses Debian's Chromium (CHROMIUM_PATH) through Playwright.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    base, out = sys.argv[1].rstrip("/"), Path(sys.argv[2])
    paths = sys.argv[3:] or ["/dashboard/"]
    email = os.environ.get("SHOT_EMAIL", "staff@demo.example.org")
    password = os.environ.get("SHOT_PASSWORD", "demo-staff-2030")
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"), args=ARGS)
        for lang in ("zh_TW", "en"):
            for name, viewport in (("desktop", {"width": 1280, "height": 900}),
                                   ("phone", {"width": 390, "height": 844})):
                ctx = browser.new_context(viewport=viewport)
                ctx.add_cookies([{"name": "lang", "value": lang, "url": base}])
                page = ctx.new_page()
                page.goto(base + "/auth/login")
                page.fill("input[name=email]", email)
                page.fill("input[name=password]", password)
                page.click("form button[type=submit]")
                page.wait_for_load_state("networkidle")
                for path in paths:
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    page.wait_for_timeout(500)
                    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
                    page.screenshot(path=str(out / f"{slug}-{lang}-{name}.png"), full_page=True)
                ctx.close()
        browser.close()


if __name__ == "__main__":
    main()
