"""Open every page of the built book in headless Chromium and check what a reader would see.

Usage: python tools/check_browser.py [HTML_DIR] [--screenshots DIR] [--browser PATH]
       (defaults: _build/html, _build/screenshots, $CHROMIUM or the first of chromium,
       chromium-browser, google-chrome, google-chrome-stable on PATH)

For each page under HTML_DIR (every ``*.html`` but the theme's template fragments in _static/ and
the redirect index.html; loaded from file://, no server), it fails (exit 1, one line per
problem) unless
- every equation was typeset by MathJax: MathJax started, no raw ``\\(``, ``\\[``, ``$$`` or
  ``\\begin{`` is left in the rendered text (code and preformatted output excepted), no MathJax
  error element (``mjx-merror``);
- every image loaded (``complete`` and ``naturalWidth > 0``);
- nothing was logged as an error: console errors, uncaught exceptions, failed resource loads;
- no request left the machine: only file:, data:, blob:, about: and localhost URLs are requested
  (any other http(s)/ws request is blocked and reported);
- nothing is clipped, at the desktop width (1280 px) and at a phone's (390 px), with every folded
  cell opened: no box hides content that overflows it (``overflow`` hidden or clip); nothing
  widens the page; at 1280 px code and printed output fit their box (a scroll bar on code is not
  fitting), and only display equations and tables may scroll, each in its own box, and the
  package's source quoted as it is in its file, at the package's width of 110 (the listings under
  _modules/, and the chapters' ``literalinclude`` blocks, marked ``:class: package-source``);
  at 390 px anything may scroll in its own box;
- Chinese text is marked ``lang="zh-Hans"`` (or ``zh-CN``) and drawn with a font that covers
  Chinese: the platform font Chromium actually used for it (DevTools' ``CSS.getPlatformFontsForNode``)
  is one that fontconfig lists for ``:lang=zh``, not a fallback that shows empty boxes.
It saves a screenshot of the top of every page except the highlighted sources under _modules/.

Only the Python standard library: Chromium is driven through the DevTools protocol over a pipe
(``--remote-debugging-pipe``), so no port is opened and nothing needs downloading.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--allow-file-access-from-files",
)
LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome", "devtools"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
VIEWPORT = (1280, 1600)
#: The widths the layout is checked at: a desktop browser, and a phone (CSS pixels).
WIDTHS = (1280, 390)
#: A phone's width is narrower than this: anything may scroll in its own box there.
NARROW = 600
#: A language tag the page may mark Chinese with: zh-Hans (this book), zh-CN (Sphinx's `language`).
CHINESE_LANGS = ("zh-hans", "zh-cn")

# Runs in the page once it has loaded: waits for MathJax and the images, then reports.
PAGE_CHECK = r"""
(async () => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const mj = window.MathJax;
  let mathjax = "absent";
  if (mj && mj.startup && mj.startup.promise) {
    const done = await Promise.race([mj.startup.promise.then(() => true), sleep(30000).then(() => false)]);
    mathjax = done ? "typeset" : "timeout";
  }
  await Promise.race([document.fonts.ready, sleep(10000)]);
  const images = Array.from(document.images);
  await Promise.race([
    Promise.all(images.map((img) => img.complete ? null :
      new Promise((r) => { img.addEventListener("load", r); img.addEventListener("error", r); }))),
    sleep(15000),
  ]);
  const broken = images.filter((img) => !img.complete || img.naturalWidth === 0)
                       .map((img) => img.getAttribute("src"));
  const skip = new Set(["SCRIPT", "STYLE", "PRE", "CODE", "TEXTAREA", "MJX-CONTAINER", "NOSCRIPT",
                        "TEMPLATE"]);
  const raw = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let e = node.parentElement; e; e = e.parentElement) {
        if (skip.has(e.tagName) || e.classList.contains("highlight")) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const t = n.textContent;
    for (const d of ["\\(", "\\[", "$$", "\\begin{"]) {
      const i = t.indexOf(d);
      if (i >= 0) { raw.push(t.slice(Math.max(0, i - 20), i + 40).replace(/\s+/g, " ")); break; }
    }
  }
  const mathElements = document.querySelectorAll(
    ".math, .output_area, .tex2jax_process, .mathjax_process").length;
  // TeX errors: a merror node (syntax error), or the red text MathJax's noundefined extension
  // puts in place of an undefined macro; read from MathJax's own tree of every typeset equation
  const errors = Array.from(document.querySelectorAll("mjx-merror"))
                      .map((e) => e.getAttribute("data-mjx-error") || e.textContent);
  const items = mj && mj.startup && mj.startup.document ? Array.from(mj.startup.document.math) : [];
  for (const item of items) {
    if (!item.root || !item.root.walkTree) continue;
    item.root.walkTree((node) => {
      if (node.kind === "mtext" && node.attributes.get("mathcolor") === "red") {
        const text = node.childNodes.map((c) => c.text || "").join("");
        errors.push(`undefined control sequence ${text} in ${String(item.math).slice(0, 80)}`);
      }
    });
  }
  return {
    title: document.title,
    mathjax,
    mathElements,
    typeset: document.querySelectorAll("mjx-container").length,
    raw: raw.slice(0, 5),
    rawCount: raw.length,
    mathErrors: errors.slice(0, 5),
    images: images.length,
    broken,
    height: document.documentElement.scrollHeight,
  };
})()
"""


# Runs at each width of WIDTHS: what overflows its box, and how. MathJax's hidden copy of each
# equation for screen readers (mjx-assistive-mml) is positioned over the equation and may be wider than
# what is drawn; it is taken out of the measurement only.
LAYOUT_CHECK = r"""
(async () => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  document.querySelectorAll("details").forEach((d) => { d.open = true; });
  let style = document.getElementById("lossref-measure");
  if (!style) {
    style = document.createElement("style");
    style.id = "lossref-measure";
    style.textContent = "mjx-assistive-mml { display: none !important; }";
    document.head.appendChild(style);
  }
  await frame();
  const width = window.innerWidth;
  const narrow = width < NARROW;
  const source = location.pathname.includes("/_modules/");
  const describe = (el) => {
    const cell = el.closest(".cell");
    const tag = el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ")[0] : "");
    const where = cell ? (el.closest(".cell_output") ? "output of a code cell" : "code cell") : tag;
    const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 60);
    return `${where} (${el.scrollWidth} px in ${el.clientWidth}): ${text}`;
  };
  const isEquation = (el) => el.matches('mjx-container[display="true"], div.math');
  const isTable = (el) => el.matches("table, .pst-scrollable-table-container, .table-wrapper");
  const clipped = [], scrolls = [], widens = [];
  let scrolling = 0;
  const article = document.querySelector(".bd-article") || document.querySelector("main") || document.body;
  for (const el of article.querySelectorAll("*")) {
    if (el.tagName !== "MJX-CONTAINER" && el.closest("mjx-container")) continue;  // MathJax's own parts
    if (el.clientWidth === 0 || el.scrollWidth <= el.clientWidth + 1) continue;
    const overflow = getComputedStyle(el).overflowX;
    if (overflow === "hidden" || overflow === "clip") clipped.push(describe(el));
    else if (overflow === "auto" || overflow === "scroll") {
      scrolling += 1;
      const quoted = el.tagName === "PRE" && (source || el.closest(".package-source"));
      const allowed = narrow || isEquation(el) || isTable(el) || quoted;
      if (!allowed) scrolls.push(describe(el));
    }
  }
  const page = document.documentElement.scrollWidth;
  if (page > width + 1) {
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.right <= width + 1 || r.width === 0) continue;
      // inside a box that scrolls or hides it, or in a drawer fixed off the screen: not what
      // widens the page
      let boxed = false;
      for (let a = el; a && a !== document.body && !boxed; a = a.parentElement) {
        const style = getComputedStyle(a);
        boxed = (a !== el && style.overflowX !== "visible") || style.position === "fixed";
      }
      const parent = el.parentElement.getBoundingClientRect().right;
      if (!boxed && parent <= width + 1) widens.push(describe(el));
    }
  }
  const han = /[\u3400-\u9fff\uf900-\ufaff]/;
  const unmarked = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!han.test(n.textContent)) continue;
    const tagged = n.parentElement.closest("[lang]");
    const lang = tagged ? tagged.getAttribute("lang").toLowerCase() : "";
    if (!CHINESE.includes(lang)) unmarked.push(n.textContent.trim().slice(0, 40));
  }
  return {width, page, clipped, scrolls, widens, scrolling, unmarked};
})()
""".replace("NARROW", str(NARROW)).replace("CHINESE", json.dumps(list(CHINESE_LANGS)))


@functools.cache
def chinese_fonts() -> frozenset[str]:
    """Font families that fontconfig lists as covering Chinese (empty where fc-list is missing)."""
    fc = shutil.which("fc-list")
    if fc is None:
        return frozenset()
    listed = subprocess.run([fc, ":lang=zh", "family"], capture_output=True, text=True).stdout
    return frozenset(f.strip() for line in listed.splitlines() for f in line.split(",") if f.strip())


def find_browser(explicit: str | None = None) -> str | None:
    """The Chromium to use: ``explicit``, $CHROMIUM, or the first known name on PATH."""
    for candidate in (explicit, os.environ.get("CHROMIUM"), *BROWSERS):
        if candidate:
            path = shutil.which(candidate)
            if path:
                return path
    return None


class DevTools:
    """A headless Chromium and a DevTools-protocol connection to it over a pipe."""

    def __init__(self, browser: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="lossref-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds() -> None:  # Chromium reads commands on fd 3 and answers on fd 4
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)  # above 4, whatever the pipes' numbers
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [browser, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_fds,
            close_fds=False,  # keeps fds 3 and 4 (inheritable); the parent's own ends are not
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._write_lock = threading.Lock()
        self._replies: dict[int, dict] = {}
        self._cond = threading.Condition()
        self.events: queue.Queue[dict] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buffer = b""
        with os.fdopen(self._from_chrome, "rb", buffering=0) as pipe:
            while chunk := pipe.read(1 << 16):
                buffer += chunk
                *messages, buffer = buffer.split(b"\0")
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        with self._cond:
                            self._replies[message["id"]] = message
                            self._cond.notify_all()
                    else:
                        if message.get("method") == "Fetch.requestPaused":
                            self._answer_paused(message)
                        self.events.put(message)
        with self._cond:
            self._replies[-1] = {"error": {"message": "the browser closed the connection"}}
            self._cond.notify_all()

    def _post(self, method: str, params: dict, session: str | None) -> int:
        """Send a command without waiting for its answer; returns its id."""
        with self._write_lock:
            self._next_id += 1
            message: dict = {"id": self._next_id, "method": method, "params": params}
            if session:
                message["sessionId"] = session
            os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
            return self._next_id

    def _answer_paused(self, event: dict) -> None:
        """A held request (Fetch domain): local ones go on, the rest are refused. Answered from the
        reader thread at once, so that no command waits on a request nobody releases."""
        params = event["params"]
        if is_local(params["request"]["url"]):
            self._post("Fetch.continueRequest", {"requestId": params["requestId"]}, event.get("sessionId"))
        else:
            self._post(
                "Fetch.failRequest",
                {"requestId": params["requestId"], "errorReason": "BlockedByClient"},
                event.get("sessionId"),
            )

    def send(
        self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60
    ) -> dict:
        ident = self._post(method, params or {}, session)
        deadline = time.monotonic() + timeout
        with self._cond:
            while ident not in self._replies and -1 not in self._replies:
                if not self._cond.wait(deadline - time.monotonic()):
                    raise TimeoutError(f"no answer to {method} within {timeout} s")
            reply = self._replies.pop(ident, None) or self._replies[-1]
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        self._reader.join(timeout=5)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "DevTools":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") in LOCAL_HOSTS


@dataclass
class PageResult:
    path: str
    problems: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    screenshot: Path | None = None


class Browser:
    """One tab, reused for every page."""

    def __init__(self, devtools: DevTools) -> None:
        self.dt = devtools
        pages = [t for t in devtools.send("Target.getTargets")["targetInfos"] if t["type"] == "page"]
        target = (
            pages[0]["targetId"]
            if pages
            else devtools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        )
        self.session = devtools.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network", "DOM", "CSS"):
            self.call(f"{domain}.enable")
        # Every request to a remote host is held, then refused: the check itself never goes out.
        self.call(
            "Fetch.enable",
            {"patterns": [{"urlPattern": p} for p in ("http://*", "https://*", "ws://*", "wss://*")]},
        )
        self.call("Page.bringToFront")
        w, h = VIEWPORT
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": False},
        )

    def call(self, method: str, params: dict | None = None, timeout: float = 60) -> dict:
        return self.dt.send(method, params, self.session, timeout)

    def _drain(self, until: str | None = None, timeout: float = 0.0) -> tuple[list[dict], bool]:
        """Events of this tab so far (and up to ``timeout`` s more, until the event ``until``)."""
        events, seen = [], False
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = self.dt.events.get(timeout=max(remaining, 0) if until and not seen else 0)
            except queue.Empty:
                return events, seen
            if event.get("sessionId") != self.session:
                continue
            events.append(event)
            seen = seen or event["method"] == until

    def check(self, url: str, screenshot: Path | None, timeout: float = 60) -> tuple[list[str], dict]:
        self._drain()
        self.call("Page.navigate", {"url": url})
        events, loaded = self._drain(until="Page.loadEventFired", timeout=timeout)
        problems = [] if loaded else [f"did not finish loading within {timeout} s"]
        reply = self.call(
            "Runtime.evaluate",
            {"expression": PAGE_CHECK, "awaitPromise": True, "returnByValue": True},
            timeout=timeout + 60,
        )
        if "exceptionDetails" in reply:
            problems.append(f"the page check itself failed: {reply['exceptionDetails'].get('text')}")
            info: dict = {}
        else:
            info = reply["result"]["value"]
        if screenshot is not None:
            shot = self.call("Page.captureScreenshot", {"format": "png"})
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
        if info:
            info["layout"] = [self._layout(width) for width in WIDTHS]
            info["chinese"] = self._chinese_fonts()
        more, _ = self._drain(timeout=0.2, until="never")
        problems += self._event_problems(events + more)
        problems += page_problems(info)
        return problems, info

    def _viewport(self, width: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
        )

    def _layout(self, width: int) -> dict:
        """The page laid out at ``width`` (then back at the desktop width): what overflows, and how."""
        self._viewport(width)
        try:
            reply = self.call(
                "Runtime.evaluate", {"expression": LAYOUT_CHECK, "awaitPromise": True, "returnByValue": True}
            )
        finally:
            self._viewport(VIEWPORT[0])
        if "exceptionDetails" in reply:
            raise RuntimeError(f"the layout check failed: {reply['exceptionDetails'].get('text')}")
        return reply["result"]["value"]

    def _chinese_fonts(self) -> list[tuple[str, list[str]]]:
        """Each element marked as Chinese: its text, and the platform fonts Chromium drew it with."""
        root = self.call("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        selector = ", ".join(f'[lang="{lang}" i]' for lang in CHINESE_LANGS)
        found = []
        for node in self.call("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]:
            fonts = self.call("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            text = self.call("DOM.getOuterHTML", {"nodeId": node})["outerHTML"]
            found.append((text[:80], [f["familyName"] for f in fonts]))
        return found

    def _event_problems(self, events: list[dict]) -> list[str]:
        problems = []
        for event in events:
            method, params = event["method"], event.get("params", {})
            if method == "Network.requestWillBeSent" and not is_local(params["request"]["url"]):
                problems.append(f"request leaves the machine: {params['request']['url']}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                problems.append(f"console error: {text[:300]}")
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text", "")
                problems.append(f"uncaught exception: {text[:300]}")
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                entry = params["entry"]
                problems.append(
                    f"browser log error: {entry.get('text', '')[:200]} {entry.get('url', '')}".rstrip()
                )
        return list(dict.fromkeys(problems))


def page_problems(info: dict) -> list[str]:
    """What the in-page check found wrong."""
    if not info:
        return []
    problems = []
    if info["mathElements"] and info["mathjax"] != "typeset":
        problems.append(
            f"MathJax did not typeset the page ({info['mathjax']}): {info['mathElements']} math element(s)"
        )
    if info["rawCount"]:
        problems.append(f"{info['rawCount']} raw TeX delimiter(s) left in the text, e.g. {info['raw'][0]!r}")
    for error in info["mathErrors"]:
        problems.append(f"MathJax error: {error[:200]}")
    for src in info["broken"]:
        problems.append(f"image did not load: {src}")
    for layout in info.get("layout", []):
        at = f"at {layout['width']} px"
        for found, what in ((layout["clipped"], "clipped"), (layout["scrolls"], "scroll instead of fitting")):
            if found:
                problems.append(f"{len(found)} element(s) {what} {at}, e.g. " + "; ".join(found[:3]))
        if layout["page"] > layout["width"] + 1:
            culprits = "; ".join(layout["widens"][:3])
            problems.append(f"the page is {layout['page']} px wide {at}: {culprits}")
        if layout["unmarked"]:
            problems.append(
                f"{len(layout['unmarked'])} run(s) of Chinese text not marked lang=zh-Hans, e.g. "
                + "; ".join(map(repr, layout["unmarked"][:3]))
            )
    covering = chinese_fonts()
    # a run with no font at all is not drawn (a folded part of the table of contents)
    tofu = [(text, fonts) for text, fonts in info.get("chinese", []) if fonts and not covering & set(fonts)]
    if tofu:
        fonts = sorted({font for _, found in tofu for font in found})
        problems.append(
            f"{len(tofu)} run(s) of Chinese text drawn without a Chinese font ({', '.join(fonts)}), e.g. "
            + "; ".join(text for text, _ in tofu[:3])
        )
    return list(dict.fromkeys(problems))  # the same defect seen at both widths is one problem


def is_redirect(page: Path) -> bool:
    """A page that only forwards the reader elsewhere (index.html -> the root page)."""
    head = page.read_text(encoding="utf-8", errors="replace")[:2000].lower()
    return 'http-equiv="refresh"' in head


def book_pages(html: Path) -> list[Path]:
    """Every page a reader can open: not the theme's template fragments under _static/, not the
    redirects (tools/check_links.py checks where those point)."""
    return [
        page
        for page in sorted(html.rglob("*.html"))
        if page.relative_to(html).parts[0] != "_static" and not is_redirect(page)
    ]


def check_pages(pages: list[Path], root: Path, screenshots: Path | None, browser: str) -> list[PageResult]:
    results = []
    with DevTools(browser) as devtools:
        tab = Browser(devtools)
        for page in pages:
            rel = page.relative_to(root).as_posix()
            shot = None
            if screenshots is not None and not rel.startswith("_modules/"):
                shot = screenshots / (rel.removesuffix(".html").replace("/", "__") + ".png")
            problems, info = tab.check(page.resolve().as_uri(), shot)
            results.append(PageResult(rel, problems, info, shot))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="?", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--screenshots", type=Path, default=ROOT / "_build" / "screenshots")
    parser.add_argument("--browser", help="Chromium executable (default: $CHROMIUM or chromium on PATH)")
    args = parser.parse_args(argv)
    browser = find_browser(args.browser)
    if browser is None:
        print(
            "check_browser: FAIL: no Chromium found (apt-get install chromium, or set CHROMIUM)",
            file=sys.stderr,
        )
        return 1
    pages = book_pages(args.html)
    if not pages:
        print(f"check_browser: FAIL: no pages under {args.html}: build the book first", file=sys.stderr)
        return 1
    if args.screenshots.exists():
        shutil.rmtree(args.screenshots)
    start = time.monotonic()
    results = check_pages(pages, args.html, args.screenshots, browser)
    failed = 0
    for r in results:
        for problem in r.problems:
            print(f"check_browser: FAIL: {r.path}: {problem}", file=sys.stderr)
        failed += bool(r.problems)
    equations = sum(r.info.get("typeset", 0) for r in results)
    images = sum(r.info.get("images", 0) for r in results)
    summary = (
        f"{len(results)} pages, {equations} equations typeset, {images} images, "
        f"{sum(r.screenshot is not None for r in results)} screenshots in {args.screenshots}, "
        f"{time.monotonic() - start:.0f} s"
    )
    if failed:
        print(f"check_browser: {failed} of {len(results)} pages failed ({summary})", file=sys.stderr)
        return 1
    print(f"check_browser: OK ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
