"""`python -m dispatch.reports --db URL --month 2026-10 --out report.pdf`: the monthly report.

    python -m dispatch.reports --db URL --month 2026-10 --out report.pdf [--site FILE]
        [--calendar FILE] [--as-of ISO-DATETIME] [--json]

The figures are defined in `dispatch.reports.core` and read by `dispatch.reports.store`;
the PDF is drawn by `dispatch.reports.pdf`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from dispatch.db.store import Store
from dispatch.reports.core import ReportError, parse_month
from dispatch.reports.store import ReportOptions, monthly_report


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m dispatch.reports", description="信息月报 / monthly report as PDF"
    )
    p.add_argument("--db", required=True, help="database URL (sqlite:///path or postgresql://)")
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--out", type=Path, required=True, help="PDF file to write")
    p.add_argument("--site", type=Path, default=None, help="site TOML (default: the demo site)")
    p.add_argument("--calendar", type=Path, default=None, help="working-day calendar TOML")
    p.add_argument("--as-of", default=None, help="cut-off, ISO datetime with offset")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from dispatch.db.store import StoreError
    from dispatch.domain.site import SiteConfigError, demo_site_path, load_site
    from dispatch.hub.files import default_calendar_path, load_calendar
    from dispatch.reports.pdf import write_pdf

    args = _parser().parse_args(argv)
    try:
        month = parse_month(args.month)
        as_of = datetime.fromisoformat(args.as_of) if args.as_of else None
    except (ReportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        site = load_site(args.site or demo_site_path())
    except SiteConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cal = load_calendar(args.calendar or default_calendar_path())
    store = Store(args.db)
    try:
        store.open()
        report = monthly_report(store, month, site, cal, ReportOptions(as_of=as_of))
    except (StoreError, ReportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    write_pdf(report, args.out)
    if args.json:
        print(report.model_dump_json())
    print(f"wrote {args.out} ({report.accepted} events in {args.month})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
