"""A first visit to every page of the built site on a slow phone connection, measured in
Chromium (tools/site_measure.py): bytes, requests, first contentful paint, load.

    python bench/page_weight.py            # needs the built site (make site): writes
                                           # bench/page_weight.json and bench/page_weight.md
    python bench/page_weight.py --render   # only rebuild the table from the JSON
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the repository's tools/
from tools import site_measure  # noqa: E402

HERE = ROOT / "bench"


def toc_pages():
    import yaml
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    titles = {}
    for doc in docs:
        path = next(p for p in (ROOT / f"{doc}.ipynb", ROOT / f"{doc}.md") if p.is_file())
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "".join(json.loads(text)["cells"][0]["source"])
        titles[doc] = next(line[2:].strip() for line in text.splitlines() if line.startswith("# "))
    return titles


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    p.add_argument("--chromium", default=shutil.which("chromium") or None)
    p.add_argument("--out", type=Path, default=HERE / "page_weight.json")
    p.add_argument("--table", type=Path, default=HERE / "page_weight.md")
    p.add_argument("--render", action="store_true", help="only rebuild --table from --out")
    args = p.parse_args(argv)
    if args.render:
        rows = json.loads(args.out.read_text(encoding="utf-8"))
    else:
        from playwright.sync_api import sync_playwright
        rows = {}
        with site_measure.serve(args.site) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium)
            for doc, title in toc_pages().items():
                rows[title] = site_measure.measure(browser, base + doc + ".html")
                print(title, rows[title], file=sys.stderr, flush=True)
            browser.close()
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    args.table.write_text(site_measure.render(rows), encoding="utf-8")
    print(site_measure.render(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
