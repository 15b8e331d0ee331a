"""Clean data.csv into clean_dataset.csv, with nothing but the standard library.

Roost's local stand-in for the script of the same name in github.com/kestra-io/examples
(which does it with pandas): same contract (data.csv in the working directory in,
clean_dataset.csv out), so sample_flows/s3TriggerCommands.yml runs unchanged, on a bare
Python (the process runner's isolated venv has no packages) as in the pydata image.

What it does, column by column (a column's kind is what most of its values look like):
- every cell: surrounding spaces stripped, runs of spaces inside collapsed to one;
- blank rows (every cell empty) and exact duplicates (after the clean-up) are dropped;
- number columns: a row whose value is not a number (`N/A`, `???`, `unknown`, empty) is
  dropped; `1,234` and ` 45 ` are read as 1234 and 45;
- date columns: dates in common formats become ISO `YYYY-MM-DD` (slashes are read day
  first, `15/02/2024`, unless only month-first makes sense); a row with an impossible
  date (`2024-02-30`) is dropped;
- email columns: lower-cased;
- text columns: ALL-CAPS words longer than three letters and all-lower-case values get
  title case (`new york` and `NEW YORK` become `New York`; `UK` and `McAdam` stay).
A summary goes to stdout, with Kestra's `::{"outputs": ...}::` line for the counts.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

SOURCE = Path("data.csv")
TARGET = Path("clean_dataset.csv")
MISSING = {"", "-", "?", "??", "???", "na", "n/a", "nan", "none", "null", "unknown", "not known"}
NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y",
                "%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y")
DATE_SHAPE = re.compile(r"\d{4}[-/]\d{1,2}[-/]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|"
                        r"(?:\d{1,2} )?[A-Za-z]{3,9}\.? \d{1,2}(?:,)? \d{4}|\d{1,2} [A-Za-z]{3,9} \d{4}")
SHARE = 0.6  # a column is of a kind when this share of its present values look like it


def squeeze(cell: str | None) -> str:
    return " ".join((cell or "").split())


def parse_number(text: str) -> str | None:
    if not NUMBER.fullmatch(text):
        return None
    value = float(text.replace(",", ""))
    if "." not in text and value.is_integer():
        return str(int(value))
    return format(value, ".15g")


def parse_date(text: str) -> str | None:
    cleaned = text.replace(".", " ").replace("  ", " ") if re.search(r"[A-Za-z]", text) else text
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, pattern).date().isoformat()
        except ValueError:
            continue
    return None


def looks_like_date(text: str) -> bool:
    return DATE_SHAPE.fullmatch(text) is not None


def column_kind(header: str, values: list[str]) -> str:
    present = [v for v in values if v.lower() not in MISSING]
    if not present:
        return "text"
    if "mail" in header.lower() or _share(present, EMAIL.fullmatch) >= SHARE:
        return "email"
    if _share(present, looks_like_date) >= SHARE:
        return "date"
    if _share(present, parse_number) >= SHARE:
        return "number"
    return "text"


def _share(values: list[str], test: Callable[[str], object]) -> float:
    return sum(1 for v in values if test(v)) / len(values)


def normalise_case(text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return text
    if text.islower() or (text.isupper() and len(letters) > 3):
        return text.title()
    return text


def read_rows() -> tuple[list[str], list[list[str]], int]:
    """Header, rows (padded to the header's width) and how many rows had too many cells."""
    with SOURCE.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        header = [squeeze(h) for h in next(reader, [])]
        rows, too_long = [], 0
        for raw in reader:
            cells = [squeeze(c) for c in raw]
            if len(cells) > len(header) and any(cells[len(header):]):
                too_long += 1
                continue
            rows.append((cells + [""] * len(header))[:len(header)])
    return header, rows, too_long


def clean(header: list[str], rows: list[list[str]]) -> tuple[list[list[str]], dict[str, list[str]], dict[str, str]]:
    """The kept rows, the dropped ones by reason (with the offending value), each column's kind."""
    present = [r for r in rows if any(r)]
    dropped: dict[str, list[str]] = {"blank": [""] * (len(rows) - len(present))}
    kinds = {name: column_kind(name, [r[i] for r in present]) for i, name in enumerate(header)}
    kept, seen = [], set()
    for row in present:
        result, reason = [], None
        for name, cell in zip(header, row, strict=True):
            kind = kinds[name]
            if kind == "number":
                value = parse_number(cell)
                reason = None if value is not None else f"with a bad number in {name}"
            elif kind == "date":
                value = parse_date(cell)
                reason = None if value is not None else f"with a bad date in {name}"
            else:
                value = cell.lower() if kind == "email" else normalise_case(cell)
            if reason is not None:
                dropped.setdefault(reason, []).append(cell)
                break
            result.append(value or "")
        if reason is not None:
            continue
        if tuple(result) in seen:
            dropped.setdefault("duplicates", []).append("")
            continue
        seen.add(tuple(result))
        kept.append(result)
    return kept, dropped, kinds


def describe(dropped: dict[str, list[str]]) -> str:
    parts = []
    for reason, values in dropped.items():
        if not values:
            continue
        shown = sorted({repr(v) for v in values if v})[:3]
        parts.append(f"{len(values)} {reason}" + (f" ({', '.join(shown)})" if shown else ""))
    total = sum(len(v) for v in dropped.values())
    return f"dropped {total} row{'' if total == 1 else 's'}: " + "; ".join(parts) if parts else "dropped no rows"


def main() -> int:
    if not SOURCE.is_file():
        print(f"{SOURCE} not found in {Path.cwd()}: the flow must provide it (inputFiles)",
              file=sys.stderr)
        return 1
    header, rows, too_long = read_rows()
    if not header:
        print(f"{SOURCE} is empty: it needs a header row", file=sys.stderr)
        return 1
    kept, dropped, kinds = clean(header, rows)
    if too_long:
        dropped["with more cells than the header"] = [""] * too_long
    with TARGET.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(kept)
    print(f"read {len(rows) + too_long} rows from {SOURCE}: "
          + ", ".join(f"{name} ({kind})" for name, kind in kinds.items()))
    print(describe(dropped))
    print(f"wrote {len(kept)} rows to {TARGET}")
    outputs = {"rows": len(kept), "dropped": sum(len(v) for v in dropped.values())}
    print("::" + json.dumps({"outputs": outputs}) + "::")
    return 0


if __name__ == "__main__":
    sys.exit(main())
