"""Benchmark machinery behind ``tools/benchmark.py``: GhostNet, GhostFPN and the detectors built on them against
their peers, on one machine, in one run.

* ``models``: the table of benchmarked models (named builders per part) and the peers each is compared with;
* ``workloads``: how each part's models are fed, run, differentiated and traced for FLOPs;
* ``measure``: one measurement (params, FLOPs; latency and peak memory of a timed run);
* ``runs``: planning the measurements and running each in a fresh process (CPU) or in this one (CUDA);
* ``report``: ratios against peers, tables, targets, machine information, JSON / CSV and the plot.
"""
