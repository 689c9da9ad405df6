"""A whole shared drive rolled up: kamxl against the naive script and the floor, in one run.

Usage: python benchmarks/bench_portfolio.py [--plans N] [--distinct K] [--jobs J] [--repeat R]
       [--kinds kamxl,excel,libreoffice] [--only ...]

Writes K distinct demo plans (default 48, the demo's content for a fixed day), then, for each
kind of workbook, N workbooks (default 1,000) as copies of them, each with its own account id
and name (writing every plan takes about a second, so 1,000 fresh plans would make the
benchmark mostly generation). The kinds are the plans KAMs really have:

  kamxl        as kamxl writes them
  excel        as Excel saves them (:mod:`tests.excel_dialect`: CR LF after each XML
               declaration, Excel's namespaces and attributes, shared formulas, 17-digit numbers)
  libreoffice  re-saved by LibreOffice (tests/lo_recalc.py, "Calc Office Open XML")

Then it measures, each in a fresh process, with the peak memory (RSS) of that process and of its
largest worker:

  generate kamxl writing the K distinct plans, against bare XlsxWriter writing the same values
  floor    python-calamine reading every cell of every sheet of every file, J processes
  cold     kamxl roll-up, no cache (history, summary and cache written: end to end)
  again    the same roll-up again, nothing changed
  changed  again after 1 % of the files changed
  naive    pandas.read_excel(sheet_name=None) of every file (openpyxl), concatenated, one process

floor, cold, again and changed run on each kind; generate and naive once, on kamxl's plans. It
prints the figures and, per kind, the ratios the targets are stated in, each against a baseline
measured in the same run on the same files. The floor and the cold roll-up of every kind run in
turns, three times each (``--repeat``), and each keeps its median run. Deterministic: the same
arguments give the same workbooks. kamxl is byte-compiled first, as an installed package is.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import functools
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = dt.date(2026, 3, 16)  # the demo's content and the roll-up's day: fixed, so runs compare
# The floor is measured right before the cold roll-up it is compared with: the machine is then alike.
MEASURES = ("generate", "floor", "cold", "again", "changed", "naive")
KINDS = ("kamxl", "excel", "libreoffice")
PER_KIND = ("floor", "cold", "again", "changed")  # the others run once, on kamxl's plans


# -- the workbooks --------------------------------------------------------------------------------
def write_distinct(folder: Path, count: int) -> list[Path]:
    from kamxl.demo import demo_plans
    from kamxl.template import get_template
    from kamxl.workbooks import save_plan

    template = get_template()
    shutil.rmtree(folder, ignore_errors=True)  # a kept work folder is written afresh
    return [
        save_plan(plan, folder, template=template)
        for plan in demo_plans(template, seed=11, count=count, today=TODAY)
    ]


def as_kind(kind: str, distinct: list[Path], folder: Path) -> list[Path]:
    """The distinct plans as this kind of workbook: kamxl's own, saved by Excel or by LibreOffice."""
    if kind == "kamxl":
        return distinct
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if kind == "excel":
        from tests.excel_dialect import to_excel

        for path in distinct:
            (folder / path.name).write_bytes(to_excel(path.read_bytes()))
        return [folder / path.name for path in distinct]
    return resave_with_libreoffice(distinct, folder)


def resave_with_libreoffice(paths: list[Path], folder: Path) -> list[Path]:
    """Each workbook opened and saved as .xlsx by LibreOffice, in one session."""
    report = folder / "lo.json"
    subprocess.run(
        ["/usr/bin/python3", str(ROOT / "tests" / "lo_recalc.py"), "--save-as-xlsx", str(folder), str(report)]
        + [str(p) for p in paths],
        check=True,
        timeout=1800,
    )
    failed = [name for name, r in json.loads(report.read_text()).items() if r.get("load_error")]
    if failed:
        raise SystemExit(f"LibreOffice could not open {failed[:3]}")
    report.unlink()
    saved = []
    for path in paths:
        target = folder / (path.stem + ".xlsx")
        (folder / path.name).rename(target)  # saved as a workbook without macros: named as one
        saved.append(target)
    return saved


@functools.cache
def identity(source: Path) -> tuple[bytes, bytes]:
    from kamxl.reader import read_plan

    plan = read_plan(source).plan
    return plan.account_id.encode(), (plan.name or "").encode()


def copy_plan(source: Path, target: Path, number: int) -> None:
    """A copy of a plan with its own account id and client name (text of the zip's parts)."""
    old_id, old_name = identity(source)
    new_id = str(uuid.UUID(int=random.Random(number).getrandbits(128))).encode()
    new_name = old_name + f" {number:05d}".encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith(".xml"):
                data = data.replace(old_id, new_id)
                if info.filename == "xl/sharedStrings.xml":
                    data = data.replace(b">" + old_name + b"<", b">" + new_name + b"<")
            dst.writestr(info, data)
    target.write_bytes(buffer.getvalue())


def make_portfolio(distinct: list[Path], folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        source = distinct[i % len(distinct)]
        target = folder / f"{i:05d} {source.stem}{source.suffix}"
        copy_plan(source, target, i)
        paths.append(target)
    return paths


# -- one measure, in its own process --------------------------------------------------------------
def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (workers): immune to other load."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def run_measure(name: str, folder: Path, work: Path, jobs: int) -> dict[str, Any]:
    start, cpu = time.perf_counter(), cpu_seconds()
    extra: dict[str, Any] = {}
    if name in ("cold", "again", "changed"):
        from kamxl.rollup import rollup

        result = rollup(folder, output=work / "portfolio" / "portfolio-summary.xlsm", jobs=jobs, as_of=TODAY)
        assert not result.skipped, result.skipped[:3]
        extra = {"accounts": len(result.accounts), "from_cache": result.from_cache}
    elif name == "naive":
        import pandas as pd

        frames = []
        for path in sorted(folder.iterdir()):
            for sheet, frame in pd.read_excel(path, sheet_name=None, engine="openpyxl").items():
                frames.append(frame.assign(file=path.name, sheet=sheet))
        extra = {"rows": len(pd.concat(frames, ignore_index=True))}
    elif name == "floor":
        import multiprocessing

        files = sorted(str(p) for p in folder.iterdir())
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            extra = {"cells": sum(pool.map(calamine_cells, files, chunksize=16))}
    elif name == "generate":
        extra = generate(work, int(os.environ["BENCH_DISTINCT"]))
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    return {
        "seconds": extra.pop("seconds", seconds),
        "cpu": extra.pop("cpu", cpu),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        **extra,
    }


def calamine_cells(path: str) -> int:
    """Every cell of every sheet, through python-calamine: nothing else (the floor)."""
    import python_calamine as pc

    book = pc.CalamineWorkbook.from_path(path)
    cells = sum(len(row) for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python())
    book.close()
    return cells


def generate(work: Path, count: int) -> dict[str, Any]:
    """kamxl writing ``count`` demo plans, then bare XlsxWriter writing the same cell values."""
    import python_calamine as pc
    import xlsxwriter

    folder = work / "generated"
    shutil.rmtree(folder, ignore_errors=True)
    from kamxl.demo import demo_plans
    from kamxl.template import get_template
    from kamxl.workbooks import save_plan

    template = get_template()
    plans = demo_plans(template, seed=11, count=count, today=TODAY)
    start, cpu = time.perf_counter(), time.process_time()
    paths = [save_plan(plan, folder, template=template) for plan in plans]
    kamxl_seconds, kamxl_cpu = time.perf_counter() - start, time.process_time() - cpu
    contents = []
    for path in paths:
        book = pc.CalamineWorkbook.from_path(str(path))
        contents.append({n: book.get_sheet_by_name(n).to_python() for n in book.sheet_names})
        book.close()
    bare = work / "bare"
    bare.mkdir(exist_ok=True)
    start, cpu = time.perf_counter(), time.process_time()
    for i, sheets in enumerate(contents):
        book = xlsxwriter.Workbook(str(bare / f"{i}.xlsx"))
        for name, rows in sheets.items():
            ws = book.add_worksheet(name[:31])
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    if value not in ("", None):
                        ws.write(r, c, value)
        book.close()
    bare_seconds, bare_cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": kamxl_seconds,
        "cpu": kamxl_cpu,
        "bare_seconds": bare_seconds,
        "bare_cpu": bare_cpu,
        "plans": count,
    }


def measure(name: str, folder: Path, work: Path, jobs: int, distinct: int) -> dict[str, Any]:
    env = os.environ | {"BENCH_DISTINCT": str(distinct)}
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            *map(str, ("--measure", name, "--folder", folder, "--work", work, "--jobs", jobs)),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def change_some(paths: list[Path], share: float) -> int:
    """Change ``share`` of the files: each gets a new client name (a new copy of its source)."""
    rng = random.Random(1)
    chosen = rng.sample(paths, max(1, round(len(paths) * share)))
    for path in chosen:
        data = path.read_bytes()
        buffer = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(data)) as src,
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst,
        ):
            for info in src.infolist():
                part = src.read(info)
                if info.filename == "xl/sharedStrings.xml":
                    part = part.replace(b"</t></si>", b" </t></si>", 1)
                dst.writestr(info, part)
        path.write_bytes(buffer.getvalue())
    return len(chosen)


# -- report ---------------------------------------------------------------------------------------
def machine() -> str:
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}"


def main(argv: list[str] | None = None) -> int:
    from kamxl.rollup.collect import default_jobs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=1000, help="workbooks rolled up (default 1,000)")
    parser.add_argument("--distinct", type=int, default=48, help="distinct demo plans written (default 48)")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="processes (default: one per CPU)")
    parser.add_argument("--only", default=",".join(MEASURES), help="measures to run, comma-separated")
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help="kinds of workbook, comma-separated (default: all three)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of the floor and the cold roll-up, in turns (default 3)"
    )
    parser.add_argument(
        "--keep", type=Path, help="work in this folder and leave it (default: a temporary one)"
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(run_measure(args.measure, args.folder, args.work, args.jobs)))
        return 0
    only = [m for m in MEASURES if m in args.only.split(",")]
    kinds = [k for k in KINDS if k in args.kinds.split(",")]
    work = args.keep or Path(tempfile.mkdtemp(prefix="kamxl-bench-"))
    try:
        return report(work, args, only, kinds)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(work: Path, args: argparse.Namespace, only: list[str], kinds: list[str]) -> int:
    print(f"machine: {machine()}; jobs {args.jobs}")
    # An installed package runs from byte code compiled at install time; a checkout where Python
    # may not write it (PYTHONDONTWRITEBYTECODE) would compile kamxl in every measured process.
    compileall.compile_dir(ROOT / "kamxl", quiet=1)
    start = time.perf_counter()
    distinct = write_distinct(work / "distinct", args.distinct)
    folders: dict[str, tuple[Path, list[Path]]] = {}
    for kind in kinds:
        sources = as_kind(kind, distinct, work / kind / "distinct")
        folder = work / kind / "plans"
        shutil.rmtree(folder, ignore_errors=True)
        folders[kind] = (folder, make_portfolio(sources, folder, args.plans))
        shutil.rmtree(work / kind / "portfolio", ignore_errors=True)
        print(f"{kind}: {args.plans:,} workbooks ({args.distinct} distinct demo plans, copied)")
    print(f"written in {time.perf_counter() - start:.0f} s")
    results: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in kinds}
    if "floor" in only and "cold" in only:
        for kind, medians in floor_and_cold(folders, work, args).items():
            results[kind] |= medians
    for kind in kinds:
        folder, paths = folders[kind]
        for name in only:
            if name in results[kind] or (name not in PER_KIND and kind != kinds[0]):
                continue
            if name == "changed":
                print(f"  ({change_some(paths, 0.01)} {kind} files changed)")
            results[kind][name] = measure(name, folder, work / kind, args.jobs, args.distinct)
            show(f"{kind} {name}", results[kind][name], args.plans)
    print_ratios(results, args.plans)
    return 0


def floor_and_cold(
    folders: dict[str, tuple[Path, list[Path]]], work: Path, args: argparse.Namespace
) -> dict[str, dict[str, dict[str, Any]]]:
    """The floor and the cold roll-up of each kind in turns, ``--repeat`` times each; each keeps
    its median run.

    Wall times on a shared machine move by some 10 % from one run to the next: measured in turns,
    all see the same machine, and the median leaves out a run that met a busy moment.
    """
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for kind, (folder, _paths) in folders.items():
            for name in ("floor", "cold"):
                shutil.rmtree(work / kind / "portfolio", ignore_errors=True)  # cold: no cache, no history
                r = measure(name, folder, work / kind, args.jobs, args.distinct)
                runs.setdefault((kind, name), []).append(r)
                show(f"{kind} {name}", r, args.plans)
    medians: dict[str, dict[str, dict[str, Any]]] = {}
    for (kind, name), measured in runs.items():
        medians.setdefault(kind, {})[name] = sorted(measured, key=lambda r: r["seconds"])[len(measured) // 2]
        walls = ", ".join(f"{r['seconds']:.2f}" for r in measured)
        median = medians[kind][name]["seconds"]
        print(f"{kind} {name:<9} median of {len(measured)} runs ({walls} s): {median:.2f} s")
    return medians


def show(name: str, r: dict[str, Any], plans: int) -> None:
    extra = {k: v for k, v in r.items() if k not in ("seconds", "cpu", "rss_mb", "worker_rss_mb")}
    extra = {k: round(v, 2) if isinstance(v, float) else v for k, v in extra.items()}
    print(
        f"{name:<20} {r['seconds']:>8.2f} s (CPU {r['cpu']:>7.2f} s)  "
        f"{r['seconds'] / r.get('plans', plans) * 1000:>7.2f} ms/plan  "
        f"peak RSS {r['rss_mb']:>5.0f} MB (largest worker {r['worker_rss_mb']:.0f} MB)  {extra}"
    )


def print_ratios(results: dict[str, dict[str, dict[str, Any]]], plans: int) -> None:
    """Per kind, each ratio against its baseline measured in the same run on the same files."""
    lines = [
        ("naive / cold (target >= 20)", "naive", "cold"),
        ("cold / floor (target <= 3)", "cold", "floor"),
        ("again / cold (target <= 0.15)", "again", "cold"),
        ("changed / cold", "changed", "cold"),
    ]
    first = next(iter(results), None)
    print(f"{'ratio':<44} {'kind':<12} {'wall':>6} {'CPU':>6}")
    for kind, measured in results.items():
        for label, a, b in lines:
            if a in measured and b in measured:
                wall = measured[a]["seconds"] / measured[b]["seconds"]
                cpu = measured[a]["cpu"] / measured[b]["cpu"]
                print(f"{label:<44} {kind:<12} {wall:6.2f} {cpu:6.2f}")
        if kind != first and first is not None and "cold" in measured and "cold" in results[first]:
            base, cold = results[first]["cold"], measured["cold"]
            wall, cpu = cold["seconds"] / base["seconds"], cold["cpu"] / base["cpu"]
            print(f"{f'cold / cold on {first} plans':<44} {kind:<12} {wall:6.2f} {cpu:6.2f}")
    if first is not None and "generate" in results[first]:
        g = results[first]["generate"]
        wall, cpu = g["seconds"] / g["bare_seconds"], g["cpu"] / g["bare_cpu"]
        print(
            f"{'generate / bare XlsxWriter (target <= 3)':<44} {first:<12} {wall:6.2f} {cpu:6.2f}   "
            f"({g['seconds'] / g['plans'] * 1000:.0f} against "
            f"{g['bare_seconds'] / g['plans'] * 1000:.0f} ms/plan)"
        )
    for kind, measured in results.items():
        rss = max(
            (r["rss_mb"] for k, r in measured.items() if k in ("cold", "again", "changed")), default=None
        )
        if rss is not None:
            print(f"{'roll-up peak RSS, MB (target < 500 at 10,000)':<44} {kind:<12} {rss:6.0f}")


if __name__ == "__main__":
    raise SystemExit(main())
