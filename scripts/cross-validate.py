#!/usr/bin/env python3
"""Leave-one-day-out cross-validation of footfall's people-present estimate on the Brno lab.

Needs ../shared/data (brno-sc6-61: 4 days, two sniffers; brno-sc6-61-2023: 20 days, one
sniffer) next to the repository, and a built `footfall` (FOOTFALL, default .build/debug/footfall).
Exits 77 with a message when the data are absent (a user's clone has no ../shared).

For every candidate (a set of config settings on top of config/examples/brno-lab.yaml, one
per line of the candidates file: `name key=value ...`, keys like `visits.visit_gap_seconds`
or `zones.rssi_threshold`), every day is evaluated with `footfall evaluate --json`. Then, for
each held-out day, the candidate with the lowest pooled hourly MAE over the other 23 days is
chosen and scores the held-out day. Reported: per day the chosen candidate, hours, MAE and r;
pooled over all held-out hours the MAE and Pearson r; and the in-sample score of every
candidate (never used to choose). No setting is chosen on the day it is scored on.

    scripts/cross-validate.py [--candidates FILE] [--json OUT]
"""
import argparse, json, math, os, re, shutil, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("FOOTFALL_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
BASE = os.path.join(ROOT, "config", "examples", "brno-lab.yaml")


def days():
    """(day, [capture@sensor...], [ground truth files]) for the 24 hand-counted days."""
    out = []
    d24 = os.path.join(DATA, "brno-sc6-61")
    for day in ["2024-02-08", "2024-03-07", "2024-03-14", "2024-03-16"]:
        truth = os.path.join(ROOT, "Tests", "Fixtures", "brno-sc6-61", f"{day}_occupancy.csv")
        caps = [f"{d24}/{day}_position_{p}.pcap@position_{p}" for p in (1, 2)]
        out.append((day, caps, [truth]))
    d23 = os.path.join(DATA, "brno-sc6-61-2023")
    for name in sorted(os.listdir(d23)):
        m = re.match(r"(\d{4}-\d\d-\d\d)_position_1\.pcap$", name)
        if m:
            day = m.group(1)
            out.append((day, [f"{d23}/{name}@position_1"], [f"{d23}/{day}_position_1.csv"]))
    return out


def config_text(settings):
    """brno-lab.yaml with `section.key=value` settings replaced or added."""
    text = open(BASE).read()
    for key, value in settings.items():
        section, field = key.split(".", 1)
        if section == "zones":
            text, n = re.subn(rf"(\n    {field}: )\S+", rf"\g<1>{value}", text)
            assert n, key
            continue
        if re.search(rf"^{section}:\n", text, re.M) is None:
            text += f"\n{section}:\n"
        # A key the configuration sets already is replaced (YAML refuses a key twice).
        text, n = re.subn(rf"(^{section}:\n(?:[ #].*\n|\n)*?  {field}: )\S+", rf"\g<1>{value}", text, flags=re.M)
        if n == 0:
            text = re.sub(rf"(^{section}:\n)", rf"\g<1>  {field}: {value}\n", text, flags=re.M)
    return text


def pearson(xs, ys):
    n = len(xs)
    if n < 2:
        return float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def score(hours):
    est = [h["estimate"] for h in hours]
    tru = [h["truth"] for h in hours]
    mae = sum(abs(e - t) for e, t in zip(est, tru)) / len(hours) if hours else float("nan")
    return mae, pearson(est, tru)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--candidates", default=os.path.join(ROOT, "scripts", "cv-candidates.txt"))
    ap.add_argument("--json")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(DATA, "brno-sc6-61-2023")):
        print(f"cross-validate: needs the shared lab captures in {DATA} (not part of a clone); skipped", file=sys.stderr)
        return 77
    footfall = os.environ.get("FOOTFALL", os.path.join(ROOT, ".build", "debug", "footfall"))
    candidates = []
    for line in open(args.candidates):
        line = line.split("#", 1)[0].strip()
        if line:
            name, *pairs = line.split()
            candidates.append((name, dict(p.split("=", 1) for p in pairs)))
    all_days = days()
    tmp = tempfile.mkdtemp(prefix="footfall-cv-")
    # Files the configuration names relative to itself (the floor plan) go beside the copies.
    for name in os.listdir(os.path.dirname(BASE)):
        if not name.endswith(".yaml"):
            shutil.copy(os.path.join(os.path.dirname(BASE), name), tmp)
    jobs = []
    for ci, (name, settings) in enumerate(candidates):
        path = os.path.join(tmp, f"c{ci}.yaml")
        open(path, "w").write(config_text(settings))
        for day, caps, truth in all_days:
            cmd = [footfall, "evaluate", "--json", "--config", path]
            for t in truth:
                cmd += ["--ground-truth", t]
            jobs.append((ci, day, cmd + caps))

    def run(job):
        ci, day, cmd = job
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
        return ci, day, json.loads(r.stdout)["hours"]

    results = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        for ci, day, hours in pool.map(run, jobs):
            results[(ci, day)] = hours

    names = [d for d, _, _ in all_days]
    print(f"{len(candidates)} candidates x {len(names)} days\n")
    print("in-sample, all days pooled (for reference only; never used to choose):")
    for ci, (name, _) in enumerate(candidates):
        mae, r = score([h for d in names for h in results[(ci, d)]])
        print(f"  {name:32s} MAE {mae:.3f}  r {r:.4f}")
    print("\nleave one day out (chosen on the other days, scored on the day):")
    print(f"  {'day':10s} {'chosen':32s} {'hours':>5s} {'MAE':>6s} {'r':>7s}")
    held = []
    report = {"days": []}
    for day in names:
        best = min(range(len(candidates)),
                   key=lambda ci: (score([h for d in names if d != day for h in results[(ci, d)]])[0], ci))
        hours = results[(best, day)]
        mae, r = score(hours)
        held += hours
        print(f"  {day:10s} {candidates[best][0]:32s} {len(hours):5d} {mae:6.3f} {r:7.4f}")
        report["days"].append({"day": day, "chosen": candidates[best][0], "hours": len(hours), "mae": mae, "r": r})
    mae, r = score(held)
    print(f"\n  pooled over {len(held)} held-out hours: MAE {mae:.3f}  r {r:.4f}")
    report.update(pooled_mae=mae, pooled_r=r, hours=len(held))
    if args.json:
        json.dump(report, open(args.json, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
