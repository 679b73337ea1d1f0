"""The drift benchmark's reference: pandas + SciPy doing the drift validator's job.

Reads both CSV files with pandas, and for every column drops nulls, runs scipy.stats.ks_2samp with
its defaults and computes PSI as ../shared/fixtures/drift/README.md defines it (10 bins with inner
edges at the reference's quantiles k * 0.1, linear interpolation; searchsorted side='right'; shares
floored at 1e-6). Prints one JSON line: {"columns": {NAME: {...}}, "seconds", "maxRssMiB", "cpuSeconds"}.

    /usr/bin/python3 bench/drift/reference.py REFERENCE.csv CURRENT.csv
"""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats

QUANTILES = np.arange(1, 10) * 0.1
FLOOR = 1e-6


def psi(ref, cur):
    edges = np.quantile(ref, QUANTILES)
    r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=10) / len(ref)
    c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=10) / len(cur)
    r = np.maximum(r, FLOOR)
    c = np.maximum(c, FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def main():
    t0 = time.time()
    reference = pd.read_csv(sys.argv[1])
    current = pd.read_csv(sys.argv[2])
    columns = {}
    for name in reference.columns:
        if name not in current.columns:
            continue
        r = reference[name].dropna().to_numpy(dtype=np.float64)
        c = current[name].dropna().to_numpy(dtype=np.float64)
        ks = stats.ks_2samp(r, c)
        columns[name] = {
            "kind": "numeric",
            "ks_statistic": float(ks.statistic),
            "ks_pvalue": float(ks.pvalue),
            "psi": psi(r, c),
            "n_reference": int(len(r)),
            "n_current": int(len(c)),
            "nulls_reference": int(len(reference) - len(r)),
            "nulls_current": int(len(current) - len(c)),
        }
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "columns": columns,
        "seconds": time.time() - t0,
        "maxRssMiB": usage.ru_maxrss / 1024,  # KiB on Linux
        "cpuSeconds": usage.ru_utime + usage.ru_stime,
    }))


if __name__ == "__main__":
    main()
