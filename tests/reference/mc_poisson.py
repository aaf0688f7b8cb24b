#!/usr/bin/env python3
"""Independent reference for scenarios/regression/mc-poisson.toml.

Monthly demand N = sum of 30 daily Poisson(2) draws = Poisson(60) credits (whole credits,
1 credit per unit). Plan fee 10.00, no included credits, flex 1.00 per credit, no cap.
  flex only:    cash = economic = 10 + N
  b50 at start: 50 credits for 40.00; cash = 50 + max(0, N - 50);
                economic = cash - 0.80 * max(0, 50 - N)   (unused credits at cost 0.80 each)
Prints exact expectations from the Poisson pmf (no sampling), to compare with the simulated
statistics within their Monte Carlo error.
"""
import math

LAM = 60.0
NMAX = 400
pmf = [math.exp(-LAM + n * math.log(LAM) - math.lgamma(n + 1)) for n in range(NMAX)]
assert abs(sum(pmf) - 1) < 1e-12

def expect(f):
    return sum(p * f(n) for n, p in enumerate(pmf))

def sd(f):
    m = expect(f)
    return math.sqrt(expect(lambda n: (f(n) - m) ** 2))

flex = lambda n: 10 + n
b50_cash = lambda n: 50 + max(0, n - 50)
b50_econ = lambda n: b50_cash(n) - 0.8 * max(0, 50 - n)

def median(f):
    # Smallest value with P(X <= value) >= 0.5, over the distribution of f(N) (f increasing).
    acc = 0.0
    for n, p in enumerate(pmf):
        acc += p
        if acc >= 0.5:
            return f(n)

print("flex mean", expect(flex), "sd", sd(flex), "median", median(flex))
print("b50 cash mean", expect(b50_cash), "sd", sd(b50_cash))
print("b50 economic mean", expect(b50_econ), "sd", sd(b50_econ))
print("cash savings of b50 vs flex mean", expect(lambda n: flex(n) - b50_cash(n)))
print("P(b50 cash strictly cheaper)", sum(p for n, p in enumerate(pmf) if b50_cash(n) < flex(n)))
print("P(tie in cash)", sum(p for n, p in enumerate(pmf) if b50_cash(n) == flex(n)))
print("P(b50 economic strictly cheaper)", sum(p for n, p in enumerate(pmf) if b50_econ(n) < flex(n)))
print("b50 prepaid utilisation E[min(N,50)]/50", expect(lambda n: min(n, 50)) / 50)
