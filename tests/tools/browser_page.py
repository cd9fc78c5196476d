#!/usr/bin/python3
"""Opens a page in headless Chromium through WebDriver, the way a person's
browser would, and reports what it showed.

Optionally acts as a person would first, in order (--step, repeatable):
"type:CSS=TEXT" types into a field (split at the first '=' outside the
selector's [attribute] brackets),
"select:CSS=VALUE" picks an option of a <select> by its value,
"value:CSS=TEXT" sets a field's value as a date or time picker would (with
its input and change events),
"file:CSS=PATH" chooses a file in a file input, "click:CSS"
clicks, "wait:JS" waits until a condition holds, "go:URL" opens another page
in the same browser (cookies kept), "shot:FILE" keeps a screenshot of the
page as it is then, "size:WIDTHxHEIGHT" resizes the window (a phone is
390 wide); a step that fails, or of an unknown
kind, ends the steps and is reported on stderr. Then waits until a
JavaScript condition holds (or the timeout passes), and prints
one JSON object: the DOM after the page's scripts ran, the browser console
(errors included), the Content-Security-Policy violations the page caused,
and whether the condition was met. Optionally keeps a screenshot.

  /usr/bin/python3 tests/tools/browser_page.py URL [--download_dir DIR] \\
      --step 'type:#login=kim' --step 'type:#password=...' \\
      --step 'click:#signin-form button' \\
      --until 'return document.querySelector("[data-loaded=yes]") !== null' \\
      --screenshot build/test-artifacts/dashboard.png

Uses Debian's chromium, chromium-driver and python3-selenium (run it with
/usr/bin/python3, which has them).
"""
import argparse
import json
import shutil
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

# Collects violations from the first script of every document on, so that
# a refused inline script is seen even when nothing else reports it.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def split_selector(what):
    """'#rows [name=count]=12' -> ('#rows [name=count]', '12')."""
    depth = 0
    for i, c in enumerate(what):
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c == "=" and depth == 0:
            return what[:i], what[i + 1:]
    return what, ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--until", default="return document.readyState === 'complete'")
    parser.add_argument("--timeout", type=float, default=20)
    parser.add_argument("--screenshot")
    parser.add_argument("--step", action="append", default=[])
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2200)
    # Where files the page downloads are saved (none allowed without it).
    parser.add_argument("--download_dir")
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    # The machine's network is closed: Chromium's own background
    # connections would only fail (and slow every start).
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--window-size={args.width},{args.height}",
                 "--hide-scrollbars"):
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="smz-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                              options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                               {"source": CSP_LISTENER})
        if args.download_dir:
            driver.execute_cdp_cmd("Browser.setDownloadBehavior", {
                "behavior": "allow", "downloadPath": args.download_dir})
        driver.get(args.url)
        deadline = time.time() + args.timeout

        def wait_for(condition):
            while time.time() < deadline:
                try:
                    if driver.execute_script(condition):
                        return True
                except Exception:  # the page may be navigating
                    pass
                time.sleep(0.1)
            return False

        steps_done = 0
        for step in args.step:
            kind, _, what = step.partition(":")
            wait_for("return document.readyState === 'complete'")
            try:
                if kind == "type":
                    selector, text = split_selector(what)
                    field = driver.find_element(By.CSS_SELECTOR, selector)
                    field.clear()
                    field.send_keys(text)
                elif kind == "value":  # date and time pickers
                    selector, text = split_selector(what)
                    driver.execute_script(
                        "const e = document.querySelector(arguments[0]);"
                        "e.value = arguments[1];"
                        "for (const k of ['input', 'change'])"
                        "  e.dispatchEvent(new Event(k, {bubbles: true}));",
                        selector, text)
                elif kind == "select":
                    selector, value = split_selector(what)
                    Select(driver.find_element(By.CSS_SELECTOR, selector)
                           ).select_by_value(value)
                elif kind == "file":
                    selector, path = split_selector(what)
                    driver.find_element(By.CSS_SELECTOR, selector
                                        ).send_keys(path)
                elif kind == "shot":
                    driver.save_screenshot(what)
                elif kind == "size":  # "390x1600": a phone's width
                    width, _, height = what.partition("x")
                    driver.set_window_size(int(width), int(height))
                elif kind == "click":
                    driver.find_element(By.CSS_SELECTOR, what).click()
                elif kind == "wait":
                    if not wait_for(what):
                        break
                elif kind == "go":
                    driver.get(what)
                else:
                    print(f"step {step!r}: unknown kind", file=sys.stderr)
                    break
            except Exception as error:  # reported, not raised
                print(f"step {step!r} failed: {error}", file=sys.stderr)
                break
            steps_done += 1
        met = steps_done == len(args.step) and wait_for(args.until)
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
        result = {
            "met": met,
            "steps_done": steps_done,
            "dom": driver.execute_script(
                "return document.documentElement.outerHTML"),
            "console": [
                {"level": e.get("level", ""), "message": e.get("message", "")}
                for e in driver.get_log("browser")
            ],
            "csp_violations": driver.execute_script(
                "return window.__cspViolations || []"),
        }
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
