"""``roster bench``: named benchmark suites, each run in its own process, written to CSV and
``benchmarks/RESULTS.md`` with plots.

    roster bench SUITE... [--seeds 1 2 3] [--time-limit S] [--runs N] [--out DIR] [--record]

Suites: ``smoke`` (CI, under a minute), ``S``, ``M``, ``L``, ``XL`` (our synthetic weeks from
``roster.generator``), ``peers`` (greedy, CP-SAT, VROOM, PyVRP side by side on S and M),
``public`` (Mankowska 2014 and the Italian set, scored as their papers define) and ``frontier``
(CP-SAT at 10 s on weeks from 4 carers up to S: up to what size is the whole lexicographic
objective proven optimal, and which of its stages are).

Every measured row runs in a fresh ``spawn`` process so that its peak memory is its own:
``peak_rss_mb`` is the process's ``ru_maxrss`` plus the largest of its own worker processes
(``RUSAGE_CHILDREN``) — C++ memory (OR-Tools, VROOM, HiGHS) included, which ``tracemalloc``
would miss. Times are wall-clock seconds, the median of ``--runs`` runs.

Each suite writes ``DIR/<suite>.csv`` (one row per instance x method x seed); ``RESULTS.md`` is
then rebuilt from every CSV in ``DIR``, so suites run at different times land in one report.
``DIR`` is ``out/bench`` by default (git-ignored, with its own ``RESULTS.md``); ``--record``
writes to the tracked ``benchmarks/results`` and ``benchmarks/RESULTS.md`` instead.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RECORD_OUT = HERE / "results"
RESULTS_MD = HERE / "RESULTS.md"
"""The tracked results folder and report: written only with ``--record`` (or when named)."""
DEFAULT_OUT = Path("out") / "bench"
"""Where a run writes by default: ``out/bench`` under the current folder (``out/`` is
git-ignored), with its own ``RESULTS.md`` and plots, so that ``roster bench smoke`` in a
checkout never rewrites tracked files unless asked (``--record``)."""
PUBLIC_ROOT = Path(os.environ.get("ROSTER_PUBLIC_BENCHMARKS", "/work/shared/benchmarks"))

SUITES = ("smoke", "S", "M", "L", "XL", "peers", "public", "bounds", "frontier")

FRONTIER_SIZES: tuple[tuple[int, int], ...] = (
    (4, 7), (6, 11), (8, 15), (10, 19), (12, 22), (16, 30), (20, 37), (30, 56),
)
"""(carers, children) of the ``frontier`` suite: the S ratio (30, 56), from 4 carers up to S."""
CONTINUITY_BOUND_SECONDS = 120.0
CONTINUITY_BOUND_MAX_CARERS = 20
"""After the last run of each frontier solve up to this many carers, ``solver.contbound`` bounds
the rota's continuity for at most ``CONTINUITY_BOUND_SECONDS`` (not counted in the solve's
time). With two carers priced side by side its LP converged in 3.8 s on 8 / 15 seed 1, 8.9 s
on 14 / 26 seed 1 and 87 s on 20 / 37 seed 1; at S it had not in 300 s (one at a time)."""

PROOF_STAGES = ("coverage", "continuity", "quality")
"""The lexicographic objective's stages, in order (``solver.cpsat.TERMS_BY_STAGE``)."""

FIELDS = (
    "suite", "instance", "size", "carers", "children", "visits", "slots", "method", "seed",
    "runs", "time_s", "peak_rss_mb", "status", "slots_covered", "coverage_pct", "lp_bound",
    "coverage_vs_bound_pct", "gap", "slots_bound", "coverage_gap", "carers_per_child", "known_carer_pct", "travel_miles",
    "violations", "violation_rules", "cov_ratio_vs_greedy", "miles_ratio_vs_greedy",
    "time_ratio_vs_greedy", "note", "command",
    # added for the frontier suite (at the end, so older CSVs read as before):
    "proven_stages", "proven_runs", "stages",
    # sixth session: the continuity cost and its column-generation bound (frontier suite)
    "continuity_cost", "continuity_bound", "continuity_gap_pct",
)


# ---- one measured run (in a child process) ----------------------------------------------


def _instance(spec: dict[str, Any]) -> Any:
    import pickle

    path = Path(spec["pickle"])
    with open(path, "rb") as fh:
        return pickle.load(fh)


def _score(instance: Any, rota: Any) -> dict[str, Any]:
    from collections import Counter

    from roster.checker import check
    from roster.kpis import compute_kpis

    violations = check(instance, rota)
    k = compute_kpis(instance, rota)
    rules = Counter(v.rule for v in violations)
    return {
        "slots_covered": k["carer_slots_covered"],
        "carers_per_child": k["mean_carers_per_child"],
        "known_carer_pct": k["known_carer_pct"],
        "travel_miles": k["travel_miles"],
        "violations": len(violations),
        "violation_rules": " ".join(f"{r}:{n}" for r, n in sorted(rules.items())),
    }


def _method(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one method on one instance; returns the row's measured fields."""
    method = spec["method"]
    limit = float(spec.get("time_limit", 10))
    seed = int(spec.get("seed", 0))
    if method == "generate":
        from roster.generator import generate

        t0 = time.perf_counter()
        inst = generate(carers=spec["carers"], children=spec["children"], seed=seed)
        return {"time": time.perf_counter() - t0, "status": "OK",
                "note": f"this generator run: {len(inst.visits)} visits, "
                        f"{sum(v.carers for v in inst.visits)} slots"}
    if method in ("mankowska", "italian"):
        return _public(spec)
    if method == "solomon":
        return _solomon(spec)
    instance = _instance(spec)
    t0 = time.perf_counter()
    out: dict[str, Any] = {}
    after: tuple[Any, Any] | None = None  # a solve whose continuity is bounded after it
    if method == "eligibility":
        from roster.eligibility import compute_eligibility

        el = compute_eligibility(instance)
        return {"time": time.perf_counter() - t0, "status": "OK",
                "note": f"{int(el.ok.sum())} eligible pairs of {el.ok.size}"}
    if method == "lp_bound" and spec.get("by_parts"):
        from solver.bounds import partitioned_bound

        pb = partitioned_bound(instance, time_limit=limit, processes=int(spec.get("processes", 2)))
        return {"time": time.perf_counter() - t0, "status": pb.status, "lp_bound": pb.bound,
                "note": f"LP by parts, {pb.backend}, {pb.pairs} pairs: {pb.note}; "
                        f"eligibility bound {pb.eligibility_bound}"}
    if method == "lp_bound":
        from solver.bounds import capacity_bound

        b = capacity_bound(instance, time_limit=max(limit, 60.0))
        if b.status != "optimal":
            return {"time": time.perf_counter() - t0, "status": b.status,
                    "note": f"LP {b.backend}, {b.pairs} pairs: no LP bound; eligibility bound "
                            f"{b.eligibility_bound}"}
        return {"time": time.perf_counter() - t0, "status": b.status, "lp_bound": b.bound,
                "note": f"LP {b.backend}, {b.pairs} pairs"}
    if method in ("greedy", "cpsat"):
        from solver import SolveParams, solve

        params = SolveParams(time_limit=limit, workers=int(spec.get("workers", 2)), seed=seed,
                             use_greedy_only=method == "greedy",
                             max_candidates=spec.get("max_candidates"))
        res = solve(instance, params)
        rota = res.rota
        out = {"status": res.status, "gap": None if res.gap is None else round(res.gap, 6),
               "slots_bound": res.carer_slots_bound,
               "coverage_gap": None if res.coverage_gap is None else round(res.coverage_gap, 6)}
        if method == "cpsat":
            out["proven_stages"] = proven_stages(res.stages, res.coverage_gap)
            out["stages"] = stage_summary(res.stages)
            if spec.get("continuity_bound"):
                after = (res, params)
    elif method in ("decomposed", "decomposed_greedy", "decomposed_greedy_ray",
                    "decomposed_greedy_geo"):
        from solver.decompose import DecomposeParams
        from solver.solve import solve_decomposed

        dres = solve_decomposed(instance, DecomposeParams(
            time_limit=limit, seed=seed, greedy_only=method != "decomposed",
            processes=int(spec.get("processes", 2)),
            backend="ray" if method.endswith("_ray") else spec.get("backend", "auto"),
            max_candidates=spec.get("max_candidates", 6),
            ray_address=spec.get("ray_address"),
            carers_per_region=int(spec.get("carers_per_region", 60)),
            # _geo: regions by geography alone, as before continuity-aware regions (the "before")
            continuity=not method.endswith("_geo")))
        rota = dres.rota
        out = {"status": dres.status, "note": f"{len(dres.regions)} regions; "
               f"coordination {dres.coordination.get('open_before', 0)}->"
               f"{dres.coordination.get('open_after', 0)} open visits; "
               + ", ".join(f"{k} {v:.1f}s" for k, v in dres.timings.items())}
    elif method == "lns":
        from solver.lns import LnsParams, improve

        lres = improve(instance, None, LnsParams(time_limit=limit, seed=seed))
        rota = lres.rota
        out = {"status": lres.status, "note": lres.note}
    elif method in ("vroom", "pyvrp"):
        from benchmarks.peers import run_peer

        rota, _ = run_peer(method, instance)
        out = {"status": "PEER"}
    else:
        raise ValueError(f"unknown method {method!r}")
    out["time"] = time.perf_counter() - t0
    out.update(_score(instance, rota))
    if after is not None:  # outside the solve's time
        out.update(_continuity_after(instance, *after, float(spec["continuity_bound"])))
    return out


def _continuity_after(instance: Any, res: Any, params: Any, seconds: float) -> dict[str, Any]:
    """The rota's continuity cost and a lower bound (``solver.contbound``, ``seconds`` at most)
    on that of every rota staffing as many slots, after the solve and outside its time. The
    bound is reported when its LP converged (or it met the cost), else a note says so."""
    from dataclasses import replace

    from roster.eligibility import compute_eligibility
    from solver.contbound import continuity_bound
    from solver.cpsat import _Travel, candidate_pairs
    from solver.solve import stage_costs

    w = params.weights
    # the continuity stage's cost, as the solve weighs it (its "changes" term is 0: no reference)
    cost = stage_costs(res.terms, w)["continuity"]
    elig = compute_eligibility(instance)
    keep = [(instance.carer_index[a.carer_id], instance.visit_index[a.visit_id])
            for a in res.rota.assignments]
    pairs = candidate_pairs(instance, elig, replace(params, max_candidates=None), keep)
    weeks: dict[int, list[int]] = {}
    for c, v in keep:
        weeks.setdefault(c, []).append(v)
    cb = continuity_bound(instance, elig, pairs, _Travel(instance, None), len(keep), w,
                          time.perf_counter() + seconds, weeks, target=cost, give_up=False)
    out: dict[str, Any] = {"continuity_cost": round(cost, 1)}
    if cb.converged or cb.bound >= cost - 1e-6:
        out["continuity_bound"] = round(cb.bound, 1)
        out["continuity_gap_pct"] = round(100 * (cost - cb.bound) / cost, 2) if cost else 0.0
    else:
        # valid but not the LP's optimum: a Lagrangian bound far below it, which would read as
        # a large gap that is the bound's, not the rota's
        out["note"] = (f"continuity LP not converged in {seconds:g} s "
                       f"(Lagrangian bound {cb.bound:.0f})")
    return out


def proven_stages(stages: Sequence[Mapping[str, Any]], coverage_gap: float | None = None) -> str:
    """The lexicographic stages proven optimal in a solve, in order, joined by ``+``
    ("coverage+continuity"), or "" when none is.

    ``stages`` is ``Result.stages``. A stage is proven when CP-SAT's stage of that name ended
    ``OPTIMAL``; coverage also when the coverage master proved its bound
    (``coverage_bound`` ``OPTIMAL``) or the rota staffs the proven slot bound
    (``coverage_gap == 0``); all three when the single ``weighted`` stage (large models) ended
    ``OPTIMAL``. ``FEASIBLE``, ``SKIPPED``, ``UNKNOWN`` or a stage that never ran: not proven.
    A later stage's proof is at the levels the stages before it reached."""
    proven: set[str] = set()
    for st in stages:
        if st.get("status") != "OPTIMAL":
            continue
        name = st.get("stage")
        if name == "weighted":
            proven.update(PROOF_STAGES)
        elif name == "coverage_bound":
            proven.add("coverage")
        elif name in PROOF_STAGES:
            proven.add(str(name))
    if coverage_gap is not None and coverage_gap <= 0:
        proven.add("coverage")
    return "+".join(n for n in PROOF_STAGES if n in proven)


def stage_summary(stages: Sequence[Mapping[str, Any]]) -> str:
    """``name:STATUS@seconds`` per stage, e.g. "coverage_bound:OPTIMAL@0.1 continuity:FEASIBLE@4.2
    insert:NO_GAIN@0.1 lns:12_moves@3.0" (free-text statuses cut at their first colon or comma)."""
    out = []
    for st in stages:
        text = str(st.get("status") or "?").split(":")[0].split(",")[0]
        status = "_".join(text.split())[:24] or "?"
        secs = st.get("seconds")
        out.append(f"{st.get('stage')}:{status}" + (f"@{float(secs):.1f}" if secs is not None else ""))
    return " ".join(out)


def _public(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.hhcrsp import evaluate, load_italian, load_mankowska
    from benchmarks.hhcrsp_solve import solve as hhc_solve

    path = Path(spec["path"])
    inst = load_mankowska(path) if spec["method"].startswith("mankowska") else load_italian(path)
    t0 = time.perf_counter()
    res = hhc_solve(inst, time_limit=float(spec["time_limit"]), seed=int(spec.get("seed", 0)),
                    workers=int(spec.get("workers", 2)))
    ev = evaluate(inst, res.solution)
    bks = float(spec["bks"])
    return {"time": time.perf_counter() - t0, "status": res.status,
            "cost": round(ev.cost, 3), "bks": bks, "gap_pct": round(100 * (ev.cost - bks) / bks, 3),
            "bound": None if res.bound is None else round(res.bound, 3),
            "violations": len(ev.violations), "tasks": len(inst.tasks), "carers": inst.n_carers}


def _solomon(spec: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.solomon import evaluate, load_solomon, solve_pyvrp

    inst = load_solomon(spec["path"])
    t0 = time.perf_counter()
    routes = solve_pyvrp(inst, float(spec["time_limit"]), seed=int(spec.get("seed", 0)))
    dist, problems = evaluate(inst, routes)
    bks = float(spec["bks"])
    return {"time": time.perf_counter() - t0, "status": f"PyVRP {len(routes)} vehicles",
            "cost": round(dist, 2), "bks": bks, "gap_pct": round(100 * (dist - bks) / bks, 3),
            "violations": len(problems)}


def _child(spec: dict[str, Any], queue: Any) -> None:
    import resource

    try:
        out = _method(spec)
    except Exception as exc:  # reported as the row's status, never hidden
        out = {"status": f"ERROR {type(exc).__name__}: {str(exc)[:200]}", "time": None}
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["peak_rss_mb"] = round(me + kids, 1)
    queue.put(out)


def measure(spec: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
    """Run ``spec`` in a fresh process; returns its fields (status TIMEOUT past ``timeout``)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(spec, queue))
    t0 = time.perf_counter()
    proc.start()
    try:
        out = queue.get(timeout=timeout)
    except Exception:
        proc.kill()
        proc.join()
        return {"status": f"TIMEOUT after {time.perf_counter() - t0:.0f}s", "time": None}
    proc.join()
    return dict(out)


# ---- suites -----------------------------------------------------------------------------


def _sizes() -> dict[str, tuple[int, int]]:
    from roster.generator import SIZES

    return dict(SIZES)


def _prepare(out: Path, name: str, carers: int, children: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """Generate (once) and pickle an instance; returns its path and shape."""
    import pickle

    from roster.generator import generate

    cache = out / "instances"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{name}-c{carers}-k{children}-s{seed}.pickle"
    meta_path = path.with_suffix(".json")
    if not path.exists():
        inst = generate(carers=carers, children=children, seed=seed)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(inst, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        meta = {"carers": len(inst.carers), "children": len(inst.children),
                "visits": len(inst.visits), "slots": sum(v.carers for v in inst.visits)}
        meta_path.write_text(json.dumps(meta))
    return path, json.loads(meta_path.read_text())


def _plan(suite: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """The rows a suite runs: dicts with instance shape, method and parameters."""
    sizes = _sizes()
    seeds = args.seeds
    tl = args.time_limit
    rows: list[dict[str, Any]] = []

    def synthetic(size: str, carers: int, children: int, methods: Sequence[tuple[str, float]],
                  timing_rows: bool = False, timeout: float | None = None,
                  whole: bool = True, bound: dict[str, Any] | None = None) -> None:
        for seed in seeds:
            path, meta = _prepare(args.out, size, carers, children, seed)
            base = {"size": size, "instance": f"{size}-seed{seed}", "pickle": str(path),
                    "seed": seed, "carers": meta["carers"], "children": meta["children"],
                    "visits": meta["visits"], "slots": meta["slots"], "timeout": timeout}
            if timing_rows:
                rows.append({**base, "method": "generate", "carers": carers, "children": children,
                             "time_limit": 0})
                if whole:
                    rows.append({**base, "method": "eligibility", "time_limit": 0})
            if bound is not None:  # the LP bound by parts of the visits (large weeks)
                rows.append({**base, "method": "lp_bound", **bound})
            elif whole:
                rows.append({**base, "method": "lp_bound", "time_limit": 120})
            for method, limit in methods:
                rows.append({**base, "method": method, "time_limit": limit})

    if suite == "smoke":
        synthetic("tiny", 6, 10, [("greedy", 5), ("cpsat", tl or 3), ("decomposed_greedy", 10)])
        mk = PUBLIC_ROOT / "mankowska2014-hhcrsp"
        if (mk / "bks.csv").is_file():
            rows.extend(_public_rows(mk, ["InstanzCPLEX_HCSRP_10_1"], 5, "mankowska"))
    elif suite in ("S", "M"):
        c, k = sizes[suite]
        limit = tl or (10 if suite == "S" else 60)
        synthetic(suite, c, k, [("greedy", limit), ("cpsat", limit),
                                ("decomposed", limit)], timing_rows=suite == "M", timeout=600)
    elif suite == "L":
        # Decomposed first; the monolithic solve last, under a hard timeout (it is the reason
        # for the decomposition: see RESULTS.md).
        # decomposed_greedy_geo: regions by geography alone (before continuity-aware regions).
        c, k = sizes["L"]
        synthetic("L", c, k, [("decomposed_greedy", tl or 120), ("decomposed_greedy_geo", tl or 120),
                              ("decomposed", tl or 120), ("decomposed_greedy_ray", tl or 120),
                              ("cpsat", tl or 120)],
                  timing_rows=True, timeout=900,
                  bound={"by_parts": True, "time_limit": 300, "timeout": 900, "processes": 2})
    elif suite == "XL":
        # No whole-instance eligibility at XL: 5,000 x ~50,000 pairs of float arrays would not
        # fit the 4 GB budget. The LP bound by parts finds its pairs a block of carers at a time.
        c, k = sizes["XL"]
        synthetic("XL", c, k, [("decomposed_greedy", tl or 900), ("decomposed_greedy_geo", tl or 900)],
                  timing_rows=True, timeout=2400, whole=False,
                  bound={"by_parts": True, "time_limit": 420, "timeout": 1800, "processes": 2})
    elif suite == "peers":
        for size in ("S", "M"):
            c, k = sizes[size]
            limit = tl or (10 if size == "S" else 60)
            ours = "cpsat" if size == "S" else "decomposed"
            synthetic(size, c, k, [("greedy", limit), (ours, limit), ("vroom", limit),
                                   ("pyvrp", limit)], timeout=900)
    elif suite == "public":
        mk = PUBLIC_ROOT / "mankowska2014-hhcrsp"
        names = [f"InstanzCPLEX_HCSRP_10_{i}" for i in range(1, 11)]
        names += [f"InstanzCPLEX_HCSRP_25_{i}" for i in range(1, 11)]
        names += ["InstanzCPLEX_HCSRP_50_1", "InstanzCPLEX_HCSRP_75_1", "InstanzVNS_HCSRP_100_1",
                  "InstanzVNS_HCSRP_200_1", "InstanzVNS_HCSRP_300_1"]
        rows.extend(_public_rows(mk, names, tl or 30, "mankowska"))
        it = PUBLIC_ROOT / "ceschia2024-hhcrsp-italian"
        if (it / "bks.csv").is_file():
            with open(it / "bks.csv", newline="") as fh:
                inames = [r["instance"] for r in csv.DictReader(fh)][:4]
            rows.extend(_public_rows(it, inames, tl or 30, "italian"))
        so = PUBLIC_ROOT / "solomon1987-vrptw"
        if (so / "bks.csv").is_file():
            rows.extend(_public_rows(so, ["C101", "C201", "R101", "R201", "RC101", "RC201"],
                                     10, "solomon"))
    elif suite == "frontier":
        # CP-SAT as in the S suite's rows (10 s, 2 workers, CP-SAT seed = instance seed, every
        # eligible carer a candidate), on weeks from 4 carers up to S itself at the S ratio
        for c, k in FRONTIER_SIZES:
            synthetic(f"{c}x{k}", c, k, [("cpsat", tl or 10)], whole=False, timeout=600)
            if c <= CONTINUITY_BOUND_MAX_CARERS:
                for r in rows:
                    if r["size"] == f"{c}x{k}" and r["method"] == "cpsat":
                        r["continuity_bound"] = CONTINUITY_BOUND_SECONDS
    elif suite == "bounds":
        # The LP capacity bound alone, with a longer LP limit (--time-limit, default 1200 s).
        for size in ("S", "M", "L"):
            c, k = sizes[size]
            for seed in seeds:
                path, meta = _prepare(args.out, size, c, k, seed)
                rows.append({"size": size, "instance": f"{size}-seed{seed}", "pickle": str(path),
                             "seed": seed, "carers": meta["carers"], "children": meta["children"],
                             "visits": meta["visits"], "slots": meta["slots"], "method": "lp_bound",
                             "time_limit": tl or 1200, "timeout": 2 * (tl or 1200) + 600})
    else:
        raise ValueError(f"unknown suite {suite!r}; choose from {', '.join(SUITES)}")
    return rows


def _public_rows(root: Path, names: Sequence[str], limit: float, kind: str) -> list[dict[str, Any]]:
    with open(root / "bks.csv", newline="") as fh:
        bks = {r["instance"]: r for r in csv.DictReader(fh)}
    ext = ".json" if kind == "italian" else ".txt"
    column = "objective_distance_only" if kind == "solomon" else "objective"
    out = []
    for name in names:
        if name not in bks:
            continue
        out.append({"method": kind, "instance": name, "size": bks[name].get("family_id", name[:12]),
                    "path": str(root / "instances" / f"{name}{ext}"), "bks": bks[name][column],
                    "proven": bks[name].get("proven_optimal", ""), "time_limit": limit, "seed": 0})
    return out


def run_suite(suite: str, args: argparse.Namespace, echo: Callable[[str], None] = print) -> Path:
    """Run every row of a suite, write ``<out>/<suite>.csv``, return its path."""
    plan = _plan(suite, args)
    rows: list[dict[str, Any]] = []
    public: list[dict[str, Any]] = []
    methods = getattr(args, "methods", None)
    if methods:
        # Re-run some methods only: keep the suite's other rows as they were measured.
        plan = [p for p in plan if p["method"] in methods]
        done = {(p.get("instance"), p["method"], str(p.get("seed"))) for p in plan}
        old = args.out / f"{suite}.csv"
        if old.is_file():
            rows = [dict(r) for r in _read(old)
                    if (r["instance"], r["method"], r["seed"]) not in done]
            for r in rows:
                for key in ("slots", "slots_covered", "time_s", "travel_miles", "lp_bound"):
                    if r.get(key) not in (None, ""):
                        r[key] = float(r[key]) if key in ("time_s", "travel_miles") else int(float(r[key]))
    for spec in plan:
        runs = 1 if spec["method"] in ("generate",) and spec.get("size") in ("XL",) else args.runs
        # the continuity bound after a solve (frontier) is the last run's only: the row reports
        # the last run's continuity
        once = {k: v for k, v in spec.items() if k != "continuity_bound"}
        results = [measure(spec if i == runs - 1 else once, timeout=spec.get("timeout"))
                   for i in range(runs)]
        times = [r["time"] for r in results if r.get("time") is not None]
        last = results[-1]
        cmd = _command(suite, args)
        if spec["method"] in ("mankowska", "italian", "solomon"):
            row = {"suite": suite, "instance": spec["instance"], "family": spec["size"],
                   "method": _public_method(spec),
                   "time_limit": spec["time_limit"],
                   "time_s": round(statistics.median(times), 2) if times else None,
                   "peak_rss_mb": last.get("peak_rss_mb"), "status": last.get("status"),
                   "cost": last.get("cost"), "bks": spec["bks"], "proven_optimal": spec.get("proven"),
                   "gap_pct": last.get("gap_pct"), "bound": last.get("bound"),
                   "violations": last.get("violations"), "command": cmd}
            public.append(row)
            _save(args.out, suite, rows, public)
            echo(f"{suite} {spec['instance']}: cost {row['cost']} bks {row['bks']} gap {row['gap_pct']}% "
                 f"in {row['time_s']}s [{row['status']}]")
            continue
        row = {k: spec.get(k) for k in ("instance", "size", "carers", "children", "visits", "slots",
                                        "method", "seed")}
        row.update({"suite": suite, "runs": len(results), "command": cmd,
                    "time_s": round(statistics.median(times), 2) if times else None})
        for key in ("peak_rss_mb", "status", "slots_covered", "gap", "slots_bound", "coverage_gap",
                    "carers_per_child",
                    "known_carer_pct", "travel_miles", "violations", "violation_rules", "note",
                    "lp_bound", "continuity_cost", "continuity_bound", "continuity_gap_pct"):
            if key in last:
                row[key] = last[key]
        row.update(over_runs(results))
        rows.append(row)
        _save(args.out, suite, rows, public)
        echo(f"{suite} {row['instance']} {row['method']}: {row.get('time_s')}s "
             f"{row.get('peak_rss_mb')}MB slots {row.get('slots_covered')}/{row.get('slots')} "
             f"viol {row.get('violations')} [{row.get('status')}]")
    return _save(args.out, suite, rows, public)


def over_runs(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A CP-SAT row's proof fields over its runs: a stage (and the whole objective, status
    ``OPTIMAL``) counts as proven when it was in more than half of the runs (a run that failed
    counts as not proven); ``proven_runs`` says in how many ("2/3"); gaps are medians. Empty for
    rows without proofs (greedy, bounds, peers)."""
    if not any("proven_stages" in r for r in results):
        return {}
    n = len(results)
    counts = {name: sum(name in str(r.get("proven_stages") or "").split("+") for r in results)
              for name in PROOF_STAGES}
    whole = sum(r.get("status") == "OPTIMAL" for r in results)
    others = [str(r.get("status")) for r in results if r.get("status") != "OPTIMAL"]
    out: dict[str, Any] = {
        "proven_stages": "+".join(name for name in PROOF_STAGES if 2 * counts[name] > n),
        "proven_runs": f"{whole}/{n}",
        "status": "OPTIMAL" if 2 * whole > n else max(others, key=others.count),
        "stages": next((r["stages"] for r in reversed(results) if r.get("stages")), ""),
    }
    for key in ("gap", "coverage_gap"):
        vals = [float(r[key]) for r in results if r.get(key) is not None]
        out[key] = round(statistics.median(vals), 6) if vals else None
    return out


def _save(out: Path, suite: str, rows: list[dict[str, Any]], public: list[dict[str, Any]]) -> Path:
    """Write what a suite has measured so far (so a long run that is stopped keeps its rows)."""
    _derive(rows)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{suite}.csv"
    if rows:
        _write_csv(path, rows, FIELDS)
    if public:
        _write_csv(out / f"{suite}-public.csv", public, tuple(public[0].keys()))
    return path


def _public_method(spec: dict[str, Any]) -> str:
    if spec["method"] == "solomon":
        return "PyVRP (distance only)"
    small = any(f"CPLEX_HCSRP_{n}_" in spec["instance"] for n in (10, 25))
    return "CP-SAT exact first, then LNS + exact" if small else "greedy + CP-SAT LNS"


BASELINE = "(baseline)"


def _note(note: str | None, baseline: bool) -> str:
    """``note`` with the baseline marker exactly once when ``baseline``, else not at all.

    ``_derive`` runs after every measured row, on rows read back from an earlier CSV too, so
    the marker must not be appended again each time (it once was: "(baseline) (baseline) ...")."""
    words = (note or "").replace(BASELINE, " ").split()
    text = " ".join(words)
    return f"{text} {BASELINE}".strip() if baseline else text


def _derive(rows: list[dict[str, Any]]) -> None:
    """Coverage %, coverage vs the LP bound, and ratios against the greedy of the same run."""
    bound = {(r["instance"]): r.get("lp_bound") for r in rows if r["method"] == "lp_bound"}
    greedy = {}
    for r in rows:
        if r["method"] in ("greedy",) or (r["method"] == "decomposed_greedy"
                                          and not any(x["method"] == "greedy" and x["instance"] == r["instance"] for x in rows)):
            greedy[r["instance"]] = r
    for r in rows:
        if r.get("note"):
            r["note"] = _note(r["note"], False)
        if r.get("slots_covered") in (None, ""):
            continue
        r["coverage_pct"] = round(100 * r["slots_covered"] / r["slots"], 2) if r.get("slots") else None
        b = bound.get(r["instance"])
        if b:
            r["lp_bound"] = b
            r["coverage_vs_bound_pct"] = round(100 * r["slots_covered"] / b, 2)
        g = greedy.get(r["instance"])
        if g and g.get("slots_covered"):
            r["cov_ratio_vs_greedy"] = round(r["slots_covered"] / g["slots_covered"], 4)
            if g.get("travel_miles"):
                r["miles_ratio_vs_greedy"] = round(r["travel_miles"] / g["travel_miles"], 4)
            if g.get("time_s") and r.get("time_s"):
                r["time_ratio_vs_greedy"] = round(r["time_s"] / g["time_s"], 3)
            if g is r:
                r["note"] = _note(r.get("note"), True)


def _write_csv(path: Path, rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(fields), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    os.replace(tmp, path)


def _command(suite: str, args: argparse.Namespace) -> str:
    parts = ["roster", "bench", suite, "--seeds", *map(str, args.seeds), "--runs", str(args.runs)]
    if args.time_limit:
        parts += ["--time-limit", str(args.time_limit)]
    if getattr(args, "methods", None):
        parts += ["--methods", *args.methods]
    if getattr(args, "record", False):
        parts.append("--record")
    return shlex.join(parts)


def _command_lines(rows: Sequence[Mapping[str, str]]) -> list[str]:
    """The commands that made a section's rows, each once, in the rows' order (rows of one
    suite may come from runs with other seeds or methods: column ``command`` of the CSV)."""
    seen: list[str] = []
    for r in rows:
        cmd = r.get("command", "")
        if cmd and cmd not in seen:
            seen.append(cmd)
    if len(seen) <= 1:
        return [f"Command: `{seen[0] if seen else ''}`", ""]
    lines = ["Commands (each row's own is in column `command` of the CSV):", ""]
    for cmd in seen:
        methods = sorted({r["method"] for r in rows if r.get("command") == cmd})
        lines.append(f"- `{cmd}`: {', '.join(methods)}")
    return lines + [""]


# ---- report -----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {"nproc": str(os.cpu_count()), "cpu": cpu or platform.processor(), "ram": ram,
            "python": platform.python_version(), "os": platform.platform()}


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _table(rows: Sequence[dict[str, str]], cols: Sequence[tuple[str, str]]) -> list[str]:
    out = ["| " + " | ".join(h for _, h in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        out.append("| " + " | ".join((r.get(k) or "") for k, _ in cols) + " |")
    return out


SYN_COLS = (("instance", "instance"), ("visits", "visits"), ("slots", "slots"), ("method", "method"),
            ("time_s", "time s (median)"), ("peak_rss_mb", "peak MB"), ("status", "status"),
            ("slots_covered", "slots staffed"), ("coverage_pct", "cover %"),
            ("lp_bound", "LP bound"), ("coverage_vs_bound_pct", "% of bound"),
            ("gap", "cost gap"), ("slots_bound", "solver's slot bound"),
            ("coverage_gap", "coverage gap"),
            ("carers_per_child", "carers/child"), ("known_carer_pct", "known %"),
            ("travel_miles", "miles"), ("violations", "violations"),
            ("violation_rules", "broken rules"), ("cov_ratio_vs_greedy", "cover x greedy"),
            ("miles_ratio_vs_greedy", "miles x greedy"), ("time_ratio_vs_greedy", "time x greedy"),
            ("note", "note"))


def write_report(out: Path, md: Path = RESULTS_MD, preface: str = "") -> None:
    """Rebuild RESULTS.md (and the plots) from every CSV in ``out``."""
    m = machine()
    lines = ["# roster benchmarks", "",
             "Generated by `roster bench` (`benchmarks/harness.py`) from the CSV files in "
             f"`{_rel(out)}`. Every number below was measured on this machine, in the run named by "
             "its command; nothing was copied in by hand.", "",
             f"Machine: `nproc` = {m['nproc']}, CPU: {m['cpu']}, RAM: {m['ram']}, Python {m['python']}, "
             f"{m['os']}.", "",
             "**The 2 cores were shared with other engineers' jobs during these runs** (load "
             "average often 5-15), so wall-clock times are pessimistic and noisy; peak memory is not "
             "affected.", ""]
    if preface:
        lines += [preface, ""]
    for part in ("HEADLINE.md", "WHATIF.md"):  # WHATIF.md: python -m benchmarks.whatif
        if (out / part).is_file():
            lines += [(out / part).read_text(), ""]
    proven = {}
    if (out / "bounds.csv").is_file():
        proven = {r["instance"]: r["lp_bound"] for r in _read(out / "bounds.csv")
                  if r.get("status") == "optimal" and r.get("lp_bound")}
    order = ["smoke", "S", "M", "L", "XL", "peers", "bounds"]
    for suite in order:
        path = out / f"{suite}.csv"
        if not path.is_file():
            continue
        rows = _read(path)
        for r in rows:  # CSVs written before the marker was kept to one
            if r.get("note"):
                r["note"] = _note(r["note"], BASELINE in r["note"])
        for r in rows:  # a bound proven in the bounds suite (longer LP limit) for the same instance
            if r["instance"] in proven and r.get("slots_covered"):
                b = min(float(proven[r["instance"]]), float(r.get("lp_bound") or "inf"))
                r["lp_bound"] = f"{b:.0f}"
                r["coverage_vs_bound_pct"] = f"{100 * float(r['slots_covered']) / b:.2f}"
        lines += [f"## Suite `{suite}`", "", *_command_lines(rows)]
        timing = [r for r in rows if r["method"] in ("generate", "eligibility", "lp_bound")]
        solves = [r for r in rows if r["method"] not in ("generate", "eligibility", "lp_bound")]
        if timing:
            lines += _table(timing, (("instance", "instance"), ("method", "step"),
                                     ("visits", "visits"), ("time_s", "time s"),
                                     ("peak_rss_mb", "peak MB"), ("status", "status"),
                                     ("lp_bound", "bound (slots)"), ("note", "note"))) + [""]
        if solves:
            lines += _table(solves, SYN_COLS) + [""]
            lines += _medians(solves) + [""]
    if (out / "frontier.csv").is_file():
        lines += frontier_section(_read(out / "frontier.csv")) + [""]
    for path in sorted(out.glob("*-public.csv")):
        rows = _read(path)
        lines += [f"## Public benchmarks (`{path.stem}`)", "", *_command_lines(rows),
                  "Objective (distance + total tardiness + max tardiness) / 3, as the papers "
                  "define it, computed by our evaluator (`benchmarks/hhcrsp.py`, which reproduces "
                  "every reference solution's published value). gap % = (ours - BKS) / BKS. "
                  "\"Our lower bound\" is the exact model's bound with travel rounded up to 1/1000, "
                  "so it can sit a few thousandths above the true optimum. Solomon rows: total "
                  "distance (PyVRP) against the distance-only BKS, hard windows.", ""]
        lines += _table(rows, (("instance", "instance"), ("family", "family"), ("method", "method"),
                               ("time_limit", "limit s"), ("time_s", "time s"), ("status", "status"),
                               ("cost", "our cost"), ("bks", "BKS"), ("proven_optimal", "BKS proven"),
                               ("gap_pct", "gap %"), ("bound", "our lower bound"),
                               ("violations", "violations"))) + [""]
    plots = make_plots(out, md.parent)
    for p in plots:
        lines += [f"![{p.stem}]({_rel(p, md.parent)})", ""]
    extra = out / "NOTES.md"
    if extra.is_file():
        lines += [extra.read_text(), ""]
    tmp = md.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, md)


def _proved(row: Mapping[str, str], stage: str) -> bool:
    return stage in (row.get("proven_stages") or "").split("+")


def frontier_section(rows: Sequence[dict[str, str]]) -> list[str]:
    """"Proof frontier": per size, on how many seeds CP-SAT proved the whole lexicographic
    objective (status ``OPTIMAL``; ``FEASIBLE`` or anything else is not proven) and each stage."""
    rows = [r for r in rows if r.get("method") == "cpsat"]
    if not rows:
        return []
    groups: dict[tuple[int, int], list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault((int(float(r["carers"])), int(float(r["children"]))), []).append(r)

    def med(rs: Sequence[dict[str, str]], key: str, scale: float = 1.0, fmt: str = "g") -> str:
        vals = [scale * float(r[key]) for r in rs if r.get(key) not in (None, "")]
        return format(statistics.median(vals), fmt) if vals else ""

    lines = ["## Proof frontier", "", *_command_lines(rows),
             "Up to what size does CP-SAT (`solver.solve`, 10 s, 2 workers, CP-SAT seed = the "
             "instance's seed, every eligible carer a candidate: the S suite's parameters) prove the "
             "**whole** lexicographic objective optimal — coverage, then continuity, then "
             "preferences, travel and cost? Weeks from `roster.generator.generate(carers, children, "
             "seed)` at the S ratio (30 carers : 56 children); the last size is S itself. *Whole "
             "proven* counts seeds whose solve ended with status `OPTIMAL` (every stage proven); a "
             "stage is counted when it was proven (`OPTIMAL`; `FEASIBLE`, `SKIPPED` or never run is "
             "not), and a later stage's proof is at the levels the stages before it reached. With "
             "several runs per seed a seed counts as proven when more than half its runs were "
             "(column `proven_runs` in `results/frontier.csv`); time and gap are medians over runs, "
             "then over seeds. Gap: `Result.gap`, the relative gap on the whole weighted cost (empty "
             "when the solve had no bound on it). A proof that needs close to 10 s on idle cores "
             "may be missed on busy ones: how busy the cores were for the recorded run is in "
             "the notes below.", "",
             "Continuity after the solve (sizes up to "
             f"{CONTINUITY_BOUND_MAX_CARERS} carers): `solver.contbound`'s column-generation "
             "bound on the continuity cost of every rota staffing as many slots, given at most "
             f"{CONTINUITY_BOUND_SECONDS:g} s after the solve (not in its time) and started from "
             "the last run's rota, shown when its LP converged in that time (the note says when it "
             "did not). It is the LP's optimum, so a rota's cost may be above it and still be "
             "optimal (4 / 7 seed 4: 920 proven by CP-SAT, LP 820). *At the bound* counts seeds "
             "whose rota's continuity cost equals the bound, so is optimal, whether or not the "
             "solve proved it (of those with a bound); the gap is the rota's cost over the bound "
             "(last run), an upper estimate of how far it is from optimal.", "",
             "| carers | children | visits (median) | slots (median) | whole objective proven | "
             "coverage proven | continuity proven | quality proven | time s (median) | "
             "gap % (median) | peak MB (median) | continuity at the bound | continuity gap % "
             "(median) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    all_proven: tuple[int, int] | None = None
    none_proven: tuple[int, int] | None = None
    for size in sorted(groups):
        rs = groups[size]
        n = len(rs)
        whole = sum(r.get("status") == "OPTIMAL" for r in rs)
        if whole == n:
            all_proven = size
        if whole == 0 and none_proven is None:
            none_proven = size
        counts = [sum(_proved(r, st) for r in rs) for st in PROOF_STAGES]
        lines.append(f"| {size[0]} | {size[1]} | {med(rs, 'visits')} | {med(rs, 'slots')} | "
                     f"{whole} of {n} | " + " | ".join(f"{c} of {n}" for c in counts)
                     + f" | {med(rs, 'time_s')} | {med(rs, 'gap', 100, '.2f')} | "
                     f"{med(rs, 'peak_rss_mb')} | {_at_bound(rs)} | "
                     f"{med(rs, 'continuity_gap_pct', 1.0, '.2f')} |")
    lines.append("")
    if all_proven is not None:
        lines.append(f"Largest size with the whole objective proven on every seed: "
                     f"{all_proven[0]} carers / {all_proven[1]} children.")
    else:
        lines.append("No size had the whole objective proven on every seed.")
    if none_proven is not None:
        lines.append(f"First size with no seed proven: {none_proven[0]} carers / "
                     f"{none_proven[1]} children.")
    lines += ["", "Per seed:", ""]
    lines += _table(sorted(rows, key=lambda r: (int(float(r["carers"])), int(float(r["seed"])))),
                    (("instance", "instance"), ("visits", "visits"), ("slots", "slots"),
                     ("time_s", "time s (median)"), ("status", "status"),
                     ("proven_runs", "whole proven in runs"), ("proven_stages", "stages proven"),
                     ("gap", "cost gap"), ("slots_covered", "slots staffed"),
                     ("slots_bound", "slot bound"), ("peak_rss_mb", "peak MB"),
                     ("violations", "violations"), ("continuity_cost", "continuity cost"),
                     ("continuity_bound", "continuity bound"), ("stages", "stages (last run)")))
    return lines


def _at_bound(rows: Sequence[Mapping[str, Any]]) -> str:
    """"k of n": rows whose continuity cost equals its column-generation bound, of those that
    have a bound ("" when none has)."""
    have = [r for r in rows if r.get("continuity_bound") not in (None, "")]
    if not have:
        return ""
    at = sum(float(r["continuity_bound"]) >= float(r["continuity_cost"]) - 1e-6 for r in have)
    return f"{at} of {len(have)}"


def _medians(rows: Sequence[dict[str, str]]) -> list[str]:
    """Median over seeds per (size, method)."""
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault((r["size"], r["method"]), []).append(r)
    out = ["Medians over seeds:", "",
           "| size | method | seeds | time s | peak MB | cover % | % of LP bound | carers/child | miles | violations |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for (size, method), rs in groups.items():
        def med(key: str, rs: list[dict[str, str]] = rs) -> str:
            vals = [float(r[key]) for r in rs if r.get(key) not in (None, "")]
            return f"{statistics.median(vals):g}" if vals else ""
        out.append(f"| {size} | {method} | {len(rs)} | {med('time_s')} | {med('peak_rss_mb')} | "
                   f"{med('coverage_pct')} | {med('coverage_vs_bound_pct')} | {med('carers_per_child')} | "
                   f"{med('travel_miles')} | {med('violations')} |")
    return out


def make_plots(out: Path, dest: Path) -> list[Path]:
    """Time and coverage (% of LP bound) against caseload size: one point per (method, size),
    the median over seeds; a run stopped by its timeout is drawn as an x at the timeout."""
    import re

    rows: list[dict[str, str]] = []
    for suite in ("S", "M", "L", "XL"):
        p = out / f"{suite}.csv"
        if p.is_file():
            rows += [r for r in _read(p) if r["method"] not in ("generate", "eligibility")]
    if not rows:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    for key, label, name in (("time_s", "wall-clock seconds (median over seeds)", "scaling_time.png"),
                             ("coverage_pct", "carer slots staffed, % of slots asked",
                              "scaling_quality.png")):
        fig, ax = plt.subplots(figsize=(7, 4.2))
        groups: dict[tuple[str, str], list[dict[str, str]]] = {}
        for r in rows:
            groups.setdefault((r["method"], r["size"]), []).append(r)
        lines: dict[str, list[tuple[float, float]]] = {}
        timeouts: dict[str, list[tuple[float, float]]] = {}
        for (method, _size), rs in groups.items():
            visits = statistics.median(float(r["visits"]) for r in rs if r.get("visits"))
            vals = [float(r[key]) for r in rs if r.get(key) not in (None, "")]
            if vals:
                lines.setdefault(method, []).append((visits, statistics.median(vals)))
            elif key == "time_s":
                stopped = [re.search(r"TIMEOUT after (\d+)", r.get("status") or "") for r in rs]
                secs = [float(m.group(1)) for m in stopped if m]
                if secs:
                    timeouts.setdefault(method, []).append((visits, max(secs)))
        colours: dict[str, Any] = {}
        for method, pts in sorted(lines.items()):
            pts.sort()
            (line,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=method)
            colours[method] = line.get_color()
        for method, pts in sorted(timeouts.items()):
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], marker="x", s=80,
                       color=colours.get(method, "black"), label=f"{method}: stopped at timeout")
        if key == "time_s":
            ax.set_yscale("log")
            ax.axhline(120, color="grey", ls="--", lw=0.8)
            ax.axhline(900, color="grey", ls=":", lw=0.8)
            ax.text(200, 125, "L target 120 s", fontsize=7, color="grey")
            ax.text(200, 940, "XL target 900 s", fontsize=7, color="grey")
        ax.set_xscale("log")
        ax.set_xlabel("visits in the week (log)")
        ax.set_ylabel(label)
        ax.set_title("2 cores shared with other jobs (load 10-15)", fontsize=8)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = dest / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    return made


def _rel(p: Path, base: Path | None = None) -> str:
    try:
        return str(p.resolve().relative_to((base or HERE.parent).resolve()))
    except ValueError:
        return str(p)


# ---- CLI --------------------------------------------------------------------------------


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suites", nargs="+", metavar="SUITE", help=f"one or more of {', '.join(SUITES)}")
    parser.add_argument("--seeds", nargs="+", type=int, default=[1], help="generator seeds (default 1)")
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds per solve (default per suite: S 10, M 60, L 120, XL 900)")
    parser.add_argument("--runs", type=int, default=1, help="runs per row; the median time is kept")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"results folder for CSVs and instances (default {DEFAULT_OUT}, "
                        "outside the tracked tree)")
    parser.add_argument("--results-md", type=Path, default=None,
                        help="report to (re)write (default OUT/RESULTS.md)")
    parser.add_argument("--record", action="store_true",
                        help=f"write to the tracked {_rel(RECORD_OUT)} and rebuild {_rel(RESULTS_MD)} "
                        "(unless --out / --results-md say otherwise)")
    parser.add_argument("--no-report", action="store_true", help="write the CSVs only")
    parser.add_argument("--methods", nargs="+", default=None,
                        help="run only these methods of the suite, keeping its other rows")
    parser.add_argument("--report-only", action="store_true",
                        help="rebuild RESULTS.md and the plots from the CSVs, run nothing")


def results_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """The results folder and report of a run: ``--out`` (default ``DEFAULT_OUT``, or the
    tracked ``RECORD_OUT`` with ``--record``) and ``--results-md`` (default ``OUT/RESULTS.md``,
    or the tracked ``RESULTS_MD`` with ``--record``)."""
    record = bool(getattr(args, "record", False))
    out = getattr(args, "out", None)
    folder = Path(out) if out is not None else (RECORD_OUT if record else DEFAULT_OUT)
    md = getattr(args, "results_md", None)
    return folder, Path(md) if md is not None else (RESULTS_MD if record else folder / "RESULTS.md")


def run_command(args: argparse.Namespace) -> int:
    if args.suites[0] in ("weeks", "weeks-S"):  # issue 23: the multi-week suite, its own module
        from benchmarks.weeks import run_from_harness

        return run_from_harness(args, results_paths(args)[0])
    bad = [s for s in args.suites if s not in SUITES]
    if bad:
        print(f"roster bench: unknown suite(s) {', '.join(bad)}; choose from {', '.join(SUITES)}.",
              file=sys.stderr)
        return 2
    args.out, args.results_md = results_paths(args)
    args.out.mkdir(parents=True, exist_ok=True)
    for suite in [] if args.report_only else args.suites:
        path = run_suite(suite, args)
        print(f"roster bench: {suite} -> {path}")
    if not args.no_report:
        write_report(args.out, Path(args.results_md))
        print(f"roster bench: report -> {args.results_md}")
    return 0

