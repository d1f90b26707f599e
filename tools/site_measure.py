"""A first visit to the site's pages on a slow network, measured in a real browser.

Each page is opened in a fresh browser context (empty cache) throttled with Chromium's own
network emulation: 400 kbit/s down and up, 400 ms latency; the site is served from its
folder on 127.0.0.1 without compression, as a plain static host would. For each page:
the bytes and requests of the first visit up to the load event, the first contentful paint
and the load event. tests/test_site.py checks the budgets with these numbers; `make bench`
(bench/page_weight.py) writes them as the table on the benchmark page.
"""
import contextlib
import functools
import http.server
import threading

KBIT = 1000 / 8  # bytes per second in one kbit/s
THROTTLE = {"offline": False, "latency": 400, "downloadThroughput": 400 * KBIT,
            "uploadThroughput": 400 * KBIT}
FCP_BUDGET_S, LOAD_BUDGET_S = 6.0, 30.0


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder):
    """The folder served on 127.0.0.1 (a free port); yields the base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {fcp: fcp ? fcp.startTime : null, load: nav.loadEventEnd};
}"""


def measure(browser, url, throttle=True, viewport=None):
    """{'bytes', 'requests', 'fcp_s', 'load_s'} of a first visit to `url`."""
    context = browser.new_context(viewport=viewport or {"width": 375, "height": 812})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    sizes = {}
    cdp.on("Network.loadingFinished",
           lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    if throttle:
        cdp.send("Network.emulateNetworkConditions", THROTTLE)
    try:
        page.goto(url, wait_until="load", timeout=180_000)
        timings = page.evaluate(TIMINGS)
        page.wait_for_timeout(200)  # the last loadingFinished events
        return {"bytes": sum(sizes.values()), "requests": len(sizes),
                "fcp_s": round((timings["fcp"] or 0) / 1000, 2),
                "load_s": round(timings["load"] / 1000, 2)}
    finally:
        context.close()


def render(rows):
    """Markdown table of {page title: measurement} for the benchmark page."""
    lines = ["| 页面 | 首次访问的字节 | 请求数 | 首次内容绘制（秒） | 加载完成（秒） |",
             "|---|---:|---:|---:|---:|"]
    for title, m in rows.items():
        lines.append(f"| {title} | {m['bytes'] / 1024:,.0f} KB | {m['requests']} | "
                     f"{m['fcp_s']:.1f} | {m['load_s']:.1f} |")
    lines += ["", f"测量条件：Chromium 的网络模拟，下行与上行 400 kbit/s、延迟 400 毫秒，不压缩、不用缓存，"
                  f"375 px 宽的手机视口；预算是首次内容绘制不超过 {FCP_BUDGET_S:.0f} 秒、"
                  f"加载完成不超过 {LOAD_BUDGET_S:.0f} 秒。", ""]
    return "\n".join(lines)
