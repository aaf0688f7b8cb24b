"""Independent reference for scenarios/examples/prospect-bootstrap.toml: the exact expected
credits of a weekly block bootstrap (creditsim's usage::Bootstrap), computed from the trace with
Python's Fraction, and the expected flex-only cost when every month uses more than its 30
included credits (then cost is linear in usage).

    python3 tests/reference/bootstrap_mean.py notebooks-data/traces/prospect-quarter.csv

Rules mirrored from DESIGN/ARCHITECTURE: a history day is a UTC date; credits per row =
quantity x rate (serverless_ms 1/500000, image_uploads 1/10000), exact here (rounding to
1e-6 only matters per row, and both rates give whole millionths for whole quantities);
blocks of 7 days start on a history day with the same weekday as the projected block's
first day, uniformly among those that fit a whole block."""
import csv, sys, datetime
from fractions import Fraction
from collections import defaultdict

RATES = {"serverless_ms": Fraction(1, 500000), "image_uploads": Fraction(1, 10000)}
rows = csv.DictReader(open(sys.argv[1]))
daily = defaultdict(Fraction)
for r in rows:
    day = datetime.date.fromisoformat(r["timestamp"][:10])
    daily[day] += Fraction(r["quantity"]) * RATES[r["metric"]]
first, last = min(daily), max(daily)
n = (last - first).days + 1
hist = [daily.get(first + datetime.timedelta(d), Fraction(0)) for d in range(n)]
B = 7
fit = n + 1 - B
starts = {w: [b for b in range(fit) if (first.weekday() + b) % 7 == w] for w in range(7)}
start = datetime.date(2026, 4, 1)
end = datetime.date(2027, 4, 1)
months = []
total = Fraction(0)
d = 0
month_credits = defaultdict(Fraction)
while start + datetime.timedelta(d) < end:
    day = start + datetime.timedelta(d)
    o = d % B
    block_first = start + datetime.timedelta(d - o)
    cands = starts[block_first.weekday()]
    e = sum(hist[b + o] for b in cands) / len(cands)
    month_credits[(day.year, day.month)] += e
    d += 1
annual = sum(month_credits.values())
print(f"history {first}..{last}: {n} days, mean {float(sum(hist) / n):.6f} credits a day")
print(f"expected credits over the year: {float(annual):.6f}")
print(f"smallest expected month: {float(min(month_credits.values())):.6f} (must stay well above 30)")
flex = (annual - 360) * 6
print(f"flex only, expected cost: 12 x 99.00 + 6.00 x (credits - 360) = {float(1188 + flex):.2f}")
