"""`sijil bench`: how Sijil's cost grows, measured on a generated sample, beside two baselines.

One benchmark generates N persons in a scratch directory, runs the full write-audit-publish
refresh there, and reports per stage wall time, CPU time, peak memory of the process tree,
rows in and out; the linkage's accuracy against the ground truth; and, on the same person
records, the time and accuracy of exact national-number matching and of out-of-the-box
Splink (assets/linkage/baselines.py), each run in a process of its own.

Stages come from the refresh's own event log: each step belongs to the stage of the layer it
materialises (the first part of its asset key); a step that only evaluates checks belongs to
"checks". dbt's own tests run inside the dbt steps, so they count in staging and marts; their
time, read from dbt's run results, is reported beside the check steps' under "quality": what
the checks add to the refresh, as a share of the refresh's remaining time. Each refresh also
lists its slowest steps and dbt nodes (`slowest`).
Memory and CPU are read from /proc (Linux) by a sampler thread every 50 ms.

With `next_month`, the sample is generated with the agencies' next month held back
(`generate(..., next_month=True)`); after the first refresh its files are copied into the
inbox and the warehouse refreshed again: that refresh is measured stage by stage beside the
first, and the clusters it leaves for the records linked before are compared with the clusters
a full relink of the same warehouse gives them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from assets.errors import SijilError
from assets.operations.audit_log import code_version
from assets.settings import DEFAULT_PROFILE, REPO_ROOT

STAGES = ("generate", "ingest", "staging", "linkage", "marts", "checks", "indicators", "publish")
LAYER_STAGES = {"raw": "ingest", "quarantine": "ingest", "staging": "staging", "intermediate": "staging", "linkage": "linkage",
                "core": "marts", "snapshots": "marts", "monitoring": "indicators", "reports": "indicators",
                "audit": "checks", "audit_dbt_failures": "checks"}
BASELINE_NAMES = ("exact_national_id", "splink_out_of_the_box")
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 0.05


def _proc_stat(pid: int) -> tuple[float, int] | None:
    """(CPU seconds of the process and its reaped children, resident bytes)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # the name may hold spaces: fields start after ')'
    cpu = sum(int(x) for x in fields[11:15]) / TICKS  # utime, stime, cutime, cstime
    return cpu, rss_pages * PAGE


def _children(pid: int) -> list[int]:
    """The live children of a process: those its threads started (/proc/<pid>/task/*/children)."""
    children = []
    try:
        tasks = [task.name for task in os.scandir(f"/proc/{pid}/task")]
    except OSError:
        return children
    for task in tasks:
        try:
            children.extend(int(child) for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split())
        except (OSError, ValueError):
            continue
    return children


def tree_usage(root: int) -> tuple[float, int]:
    """CPU seconds and resident bytes of a process and every live descendant.

    A child's CPU counts while it runs (its own line) and after it is reaped (its parent's
    cutime/cstime), so the total never steps back. The tree is walked from its root by each
    process's children, not found by reading every process of the machine: that read 130 files
    of /proc per sample (7 ms of CPU with 65 processes on the machine, 14 % of a core at 20
    samples a second, in the process being measured); the walk reads a few per process of the
    tree (0.2 ms for one process, 1 ms for one of 20 threads with 3 children)."""
    cpu, rss, todo = 0.0, 0, [root]
    while todo:
        pid = todo.pop()
        stat = _proc_stat(pid)
        if stat is not None:
            cpu += stat[0]
            rss += stat[1]
            todo.extend(_children(pid))
    return cpu, rss


class Sampler:
    """Samples a process tree's CPU time and resident memory in a background thread."""

    def __init__(self, pid: int | None = None):
        self.pid = pid or os.getpid()
        self.samples: list[tuple[float, float, int]] = []  # (time, cpu seconds, rss bytes)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            cpu, rss = tree_usage(self.pid)
            self.samples.append((time.time(), cpu, rss))
            if self._stop.wait(SAMPLE_SECONDS):
                break

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def window(self, started: float, finished: float) -> tuple[float, float]:
        """(CPU seconds, peak resident MB) between two moments."""
        inside = [s for s in self.samples if started <= s[0] <= finished]
        before = [s for s in self.samples if s[0] <= started][-1:] or self.samples[:1]
        after = [s for s in self.samples if s[0] >= finished][:1] or self.samples[-1:]
        cpu = max(0.0, after[0][1] - before[0][1]) if before and after else 0.0
        peak = max((s[2] for s in inside + before + after), default=0)
        return cpu, peak / 2**20


@dataclass
class Stage:
    name: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    rows_in: int
    rows_out: int
    rows_per_s: float


def stage_of(step) -> str:
    """The benchmark stage of one refresh step (see the module's docstring)."""
    if not step.asset_keys:
        return "checks"
    return LAYER_STAGES.get(step.asset_keys[0].split("/")[0], "marts")


def measure_stages(result, sampler: Sampler, generate_window: tuple[float, float] | None, records_written: int,
                   rows_received: int) -> list[Stage]:
    """Per stage: the union of its steps' time windows, their CPU and peak memory, and rows.

    A stage's rows out are the rows its layers hold in the built warehouse (publish: the
    analytics warehouse's); its rows in are the previous stage's rows out (ingest: the rows
    received in the files)."""
    windows: dict[str, list[tuple[float, float]]] = {"generate": [generate_window]} if generate_window else {}
    for step in result.steps:
        windows.setdefault(stage_of(step), []).append((step.started, step.finished))
    rows_out: dict[str, int] = {"generate": records_written, "publish": sum(result.analytics_rows.values())}
    for layer, rows in result.rows_by_layer.items():
        stage = LAYER_STAGES.get(layer, "marts")
        rows_out[stage] = rows_out.get(stage, 0) + rows
    if result.publish_window:
        windows["publish"] = [result.publish_window]
    stages, previous_out = [], 0
    for name in STAGES:
        if name not in windows:
            continue
        wall = cpu = peak = 0.0
        for started, finished in windows[name]:
            step_cpu, step_peak = sampler.window(started, finished)
            wall, cpu, peak = wall + (finished - started), cpu + step_cpu, max(peak, step_peak)
        rows_in = {"ingest": rows_received, "publish": sum(result.rows_by_layer.values())}.get(name, previous_out)
        out = rows_out.get(name, 0)
        stages.append(Stage(name, round(wall, 3), round(cpu, 3), round(peak, 1), rows_in, out,
                            round(max(rows_in, out) / wall, 1) if wall > 0 else 0.0))
        previous_out = out if name != "checks" else previous_out
    return stages


def linkage_parts(result, stage: Stage) -> dict:
    """The linkage stage in parts: its steps' wall seconds (with the phases a step reports), the
    model's training (once per model: later runs reuse the saved model), the evaluation against
    the truth (only where a truth exists), and the rest, which every run pays."""
    steps = [s for s in result.steps if s.asset_keys and stage_of(s) == "linkage"]
    training_s = sum(s.phases.get("train", 0.0) for s in steps)
    evaluation_s = sum(s.finished - s.started for s in steps if "linkage/evaluation" in s.asset_keys)
    return {"steps": [{"step": s.step_key, "wall_s": round(s.finished - s.started, 3), "phases": s.phases}
                      for s in steps],
            "training_s": round(training_s, 3), "evaluation_s": round(evaluation_s, 3),
            "per_run_s": round(stage.wall_s - training_s - evaluation_s, 3)}


def quality_share(result, stages: list[Stage], refresh_s: float) -> dict:
    """What the data-quality checks cost: the check steps (Great Expectations suites, freshness,
    volume and linkage checks) plus dbt's tests inside the dbt steps, against the rest of the
    refresh."""
    from orchestration.dbt import dbt_test_seconds

    tests = [dbt_test_seconds(run_id) for run_id in result.run_ids]
    dbt_tests_s = sum(seconds for _, seconds in tests)
    check_steps_s = next((s.wall_s for s in stages if s.name == "checks"), 0.0)
    checks_s = check_steps_s + dbt_tests_s
    rest_s = refresh_s - checks_s
    return {"check_steps_s": round(check_steps_s, 3), "dbt_tests": sum(n for n, _ in tests),
            "dbt_tests_s": round(dbt_tests_s, 3), "checks_s": round(checks_s, 3), "refresh_s": round(refresh_s, 3),
            "added_to_rest_pct": round(100 * checks_s / rest_s, 1) if rest_s > 0 else None}


SLOWEST = 8  # how many steps and dbt nodes `slowest` lists


def slowest(result, top: int = SLOWEST) -> dict:
    """Where a refresh's time went: its slowest steps (Dagster's event log) and the dbt nodes dbt
    spent longest on (dbt's run results), for finding what to make incremental next."""
    from orchestration.dbt import dbt_node_seconds

    steps = sorted(result.steps, key=lambda s: s.finished - s.started, reverse=True)[:top]
    nodes: dict[str, float] = {}
    for run_id in result.run_ids:
        for node, seconds in dbt_node_seconds(run_id).items():
            nodes[node] = nodes.get(node, 0.0) + seconds
    return {"steps": [{"step": s.step_key, "wall_s": round(s.finished - s.started, 3)} for s in steps],
            "dbt_nodes": [{"node": node, "seconds": round(seconds, 3)}
                          for node, seconds in sorted(nodes.items(), key=lambda item: item[1], reverse=True)[:top]]}


def run_baseline(name: str, warehouse: Path, truth: Path, timeout_s: float) -> dict:
    """One baseline in a process of its own: its wall time, peak memory and scores."""
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "assets.linkage.baselines", name, str(warehouse), str(truth)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    with Sampler(proc.pid) as sampler:
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            out, err = "", f"did not finish within {timeout_s:.0f} s"
    wall = time.time() - started
    peak = max((s[2] for s in sampler.samples), default=0) / 2**20
    entry = {"name": name, "wall_s": round(wall, 3), "peak_rss_mb": round(peak, 1)}
    if proc.returncode == 0 and out.strip():
        scores = json.loads(out.strip().splitlines()[-1])
        entry.update({k: scores[k] for k in ("precision", "recall", "f1")}, status="ok")
    else:
        entry.update(precision=None, recall=None, f1=None, status="failed",
                     error=(err.strip().splitlines() or ["failed"])[-1])
    return entry


def machine() -> dict:
    """Cores, memory and the versions that decide the figures."""
    memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                     if line.startswith("MemTotal"))
    versions = {}
    for package in ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "splink", "great-expectations",
                    "pandas"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {"cores": os.cpu_count(), "memory_gb": round(memory_kb / 2**20, 1), "cpu": _cpu_model(),
            "os": platform.platform(), "python": platform.python_version(), "versions": versions}


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


@contextlib.contextmanager
def scratch_environment(home: Path, profile: str):
    """SIJIL_* and DAGSTER_HOME pointed at a scratch home, and SIJIL_PROFILE at the profile the
    sample is generated for, for the benchmark; restored after."""
    names = ("SIJIL_HOME", "SIJIL_INBOX", "SIJIL_TRUTH", "SIJIL_WAREHOUSE", "SIJIL_PUBLISHED_WAREHOUSE",
             "DAGSTER_HOME", "SIJIL_MODE", "SIJIL_PROFILE")
    saved = {n: os.environ.get(n) for n in names}
    for n in names:
        os.environ.pop(n, None)
    os.environ.update(SIJIL_HOME=str(home), SIJIL_MODE="sample", DAGSTER_HOME=str(home / "dagster_home"),
                      SIJIL_PROFILE=profile)
    try:
        yield
    finally:
        for n, value in saved.items():
            if value is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = value


def run_bench(persons: int, seed: int = 42, profile: str = DEFAULT_PROFILE, keep: Path | None = None,
              baseline_timeout_s: float = 3600.0, next_month: bool = False) -> dict:
    """Generate, refresh and measure one sample (and with `next_month`, the refresh after the
    next month's files); return the benchmark's JSON document."""
    home = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="sijil-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    try:
        return _measure(persons, seed, profile, home, baseline_timeout_s, keep is not None, next_month)
    finally:
        if keep is None:
            shutil.rmtree(home, ignore_errors=True)


def _measure(persons: int, seed: int, profile: str, home: Path, baseline_timeout_s: float, kept: bool,
             next_month: bool) -> dict:
    import duckdb

    from assets.synthetic import generate
    from orchestration.refresh import run_refresh

    load_before = os.getloadavg()
    with scratch_environment(home, profile), Sampler() as sampler:
        started = time.time()
        summary = generate(profile, persons, seed, home / "sample", next_month=next_month)
        generate_window = (started, time.time())
        result = run_refresh()
        finished = time.time()
    if not result.success or not result.published:
        raise SijilError("the benchmark's refresh failed: " + "; ".join(result.errors + result.checks_failed))
    with duckdb.connect(str(result.warehouse), read_only=True) as con:
        records = con.execute("select count(*) from intermediate.int_person_mentions").fetchall()[0][0]
        received = con.execute("select coalesce(sum(rows_received), 0) from audit.trust_report").fetchall()[0][0]
        evaluation = {row[0]: row[1:] for row in con.execute(
            "select subset, precision, recall, f1, blocking_recall from linkage.evaluation").fetchall()}
        per_record = con.execute("select comparisons_per_record from linkage.blocking_analysis "
                                 "order by rule_number desc limit 1").fetchall()
    stages = measure_stages(result, sampler, generate_window, sum(summary["files"].values()), int(received))
    linkage_stage = next(s for s in stages if s.name == "linkage")
    overall = evaluation["overall"]
    baselines = [run_baseline(name, result.warehouse, home / "sample" / "truth", baseline_timeout_s)
                 for name in BASELINE_NAMES]
    quality = quality_share(result, stages, finished - generate_window[1])
    linkage = {"precision": float(overall[0]), "recall": float(overall[1]), "f1": float(overall[2]),
               "blocking_recall": float(overall[3]),
               "comparisons_per_record": float(per_record[0][0]) if per_record else None,
               "subsets": {k: {"precision": float(v[0]), "recall": float(v[1]), "f1": float(v[2]),
                               "blocking_recall": float(v[3])} for k, v in evaluation.items()},
               "wall_s": linkage_stage.wall_s, **linkage_parts(result, linkage_stage)}
    for b in baselines:
        b["sijil_time_ratio"] = round(linkage_stage.wall_s / b["wall_s"], 3) if b["wall_s"] else None
        b["sijil_f1_ratio"] = round(linkage["f1"] / b["f1"], 3) if b.get("f1") else None
    later = _measure_next_month(home, profile, summary, result, finished - generate_window[1],
                                linkage["training_s"]) if next_month else None
    return {
        "persons": summary["persons"], "households": summary["households"], "records": int(records),
        "profile": profile, "seed": seed, "commit": code_version(full=True),
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {**machine(), "load_average": {"before": [round(x, 2) for x in load_before],
                                                  "after": [round(x, 2) for x in os.getloadavg()]}},
        "total_wall_s": round(finished - started, 3),
        "peak_rss_mb": round(max(s[2] for s in sampler.samples) / 2**20, 1),
        "stages": [asdict(s) for s in stages], "slowest": slowest(result), "quality": quality, "linkage": linkage,
        "baselines": baselines,
        **({"next_month": later} if later else {}),
        "scratch": str(home) if kept else None,
    }


def _measure_next_month(home: Path, profile: str, summary: dict, first, first_refresh_s: float,
                        training_s: float) -> dict:
    """Copy the next month's files into the inbox, refresh, and measure that refresh against the
    first; then relink the published warehouse in full and compare the clusters of the records
    the first refresh had linked."""
    import duckdb

    from assets.linkage.evaluate import pairwise_scores
    from assets.linkage.mode import link_registry
    from assets.linkage.model import load_config
    from orchestration.refresh import run_refresh

    sample = home / "sample"
    with duckdb.connect(str(first.warehouse), read_only=True) as con:
        linked_before = con.sql("select mention_id from linkage.person_clusters").to_arrow_table()
    for rel in summary["next_month_files"]:
        target = sample / "inbox" / Path(rel).relative_to("next_month")
        shutil.copyfile(sample / rel, target)
    with scratch_environment(home, profile), Sampler() as sampler:
        started = time.time()
        result = run_refresh()
        finished = time.time()
    if not result.success or not result.published:
        raise SijilError("the benchmark's next-month refresh failed: " + "; ".join(result.errors + result.checks_failed))
    rows = sum(summary["next_month_files"].values())
    stages = measure_stages(result, sampler, None, 0, rows)
    relinked = home / "next_month_full_relink.duckdb"
    shutil.copyfile(result.warehouse, relinked)
    try:
        with duckdb.connect(str(relinked)) as con:
            state = dict(con.execute("select key, value from linkage.linked_state").fetchall())
            evaluation = {row[0]: row[1:] for row in con.execute(
                "select subset, precision, recall, f1 from linkage.evaluation").fetchall()}
            con.execute("create temp table after_next_month as select mention_id, master_person_id as cluster "
                        "from linkage.person_clusters")
            relink_started = time.time()
            link_registry(con, load_config(), home / "linkage" / "linkage_model.json", full_relink=True)
            relink_s = time.time() - relink_started
            con.register("linked_before", linked_before)
            con.execute("create temp table full_relink as select mention_id, master_person_id as person "
                        "from linkage.person_clusters")
            agreement = {
                "linked_before": pairwise_scores(
                    con, "(select * from after_next_month semi join linked_before using (mention_id))", "full_relink"),
                "all": pairwise_scores(con, "after_next_month", "full_relink")}
    finally:
        relinked.unlink(missing_ok=True)
    refresh_s = finished - started
    overall = evaluation["overall"]
    return {
        "files": len(summary["next_month_files"]), "rows": rows, "total_wall_s": round(refresh_s, 3),
        "peak_rss_mb": round(max(s[2] for s in sampler.samples) / 2**20, 1),
        "stages": [asdict(s) for s in stages], "slowest": slowest(result),
        "first_refresh_s": round(first_refresh_s, 3), "first_refresh_training_s": training_s,
        "ratio_to_first": round(refresh_s / first_refresh_s, 3),
        "ratio_to_first_without_training": round(refresh_s / (first_refresh_s - training_s), 3),
        "linkage_mode": state.get("mode"),
        "linkage": {"precision": float(overall[0]), "recall": float(overall[1]), "f1": float(overall[2])},
        "full_relink_s": round(relink_s, 3),
        "agreement_with_full_relink": {k: {m: v[m] for m in ("precision", "recall", "f1", "records")}
                                       for k, v in agreement.items()},
    }


def markdown(doc: dict) -> str:
    """The benchmark as a markdown table, with the machine it ran on."""
    m = doc["machine"]
    lines = [f"# Sijil benchmark: {doc['persons']:,} persons ({doc['records']:,} person records)", "",
             f"Commit `{doc['commit']}`, measured {doc['measured_at']} on {m['cores']} cores, {m['memory_gb']} GB "
             f"({m['cpu']}), Python {m['python']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
             "", f"Load average (1, 5, 15 min) {_load(m, 'before')} before, {_load(m, 'after')} after: a load above "
             f"the cores means the figures shared the machine.",
             "", f"Total {doc['total_wall_s']:.1f} s wall, peak {doc['peak_rss_mb']:,.0f} MB (process tree).", "",
             "| stage | wall s | CPU s | peak MB | rows in | rows out | rows/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {s['name']} | {s['wall_s']:.1f} | {s['cpu_s']:.1f} | {s['peak_rss_mb']:,.0f} | {s['rows_in']:,} | "
              f"{s['rows_out']:,} | {s['rows_per_s']:,.0f} |" for s in doc["stages"]]
    lines += _slowest_markdown(doc["slowest"])
    q = doc.get("quality")
    if q:
        lines += ["", f"Data-quality checks: {q['check_steps_s']:.1f} s of check steps and {q['dbt_tests_s']:.1f} s of "
                      f"{q['dbt_tests']} dbt tests (inside staging and marts), {q['checks_s']:.1f} s of a "
                      f"{q['refresh_s']:.1f} s refresh: they add {q['added_to_rest_pct']} % to the rest of it."]
    link = doc["linkage"]
    lines += ["", "| linkage | wall s | peak MB | precision | recall | F1 | Sijil time ÷ | Sijil F1 ÷ |",
              "|---|---:|---:|---:|---:|---:|---:|---:|",
              f"| Sijil | {link['wall_s']:.1f} | | {link['precision']:.4f} | {link['recall']:.4f} | {link['f1']:.4f} | | |"]
    for b in doc["baselines"]:
        if b["status"] == "ok":
            lines.append(f"| {b['name']} | {b['wall_s']:.1f} | {b['peak_rss_mb']:,.0f} | {b['precision']:.4f} | "
                         f"{b['recall']:.4f} | {b['f1']:.4f} | {b['sijil_time_ratio']} | {b['sijil_f1_ratio']} |")
        else:
            lines.append(f"| {b['name']} | {b['wall_s']:.1f} | {b['peak_rss_mb']:,.0f} | {b['error']} | | | | |")
    if "per_run_s" in link:
        lines += ["", f"Linkage stage {link['wall_s']:.1f} s: training the model {link['training_s']:.1f} s (once per "
                      f"model; later runs reuse it), evaluation against the truth {link['evaluation_s']:.1f} s (only "
                      f"where a truth exists), and {link['per_run_s']:.1f} s that every run pays."]
    subsets = link["subsets"]
    lines += ["", "Linkage by subset (BR: blocking recall, the share of true pairs the blocking rules compare): "
              + "; ".join(f"{k} P {v['precision']:.4f} R {v['recall']:.4f} F1 {v['f1']:.4f} BR {v['blocking_recall']:.4f}"
                          for k, v in subsets.items()) + "."]
    if link.get("comparisons_per_record") is not None:
        lines += ["", f"Blocking: {link['comparisons_per_record']} comparisons per record (Splink's blocking analysis; "
                      "linkage.blocking_analysis)."]
    if doc.get("next_month"):
        lines += _next_month_markdown(doc["next_month"])
    return "\n".join(lines) + "\n"


def _next_month_markdown(n: dict) -> list[str]:
    before = n["agreement_with_full_relink"]["linked_before"]
    lines = ["", "## The next month", "",
             f"{n['rows']:,} new rows in {n['files']} files, copied into the inbox of the published warehouse and "
             f"refreshed: {n['total_wall_s']:.1f} s wall, peak {n['peak_rss_mb']:,.0f} MB, against "
             f"{n['first_refresh_s']:.1f} s for the first refresh ({n['ratio_to_first']:.3f} of it; "
             f"{n['ratio_to_first_without_training']:.3f} of it without its {n['first_refresh_training_s']:.1f} s of "
             f"training the linkage model). Linkage path: {n['linkage_mode']}.", "",
             "| stage | wall s | CPU s | peak MB | rows in | rows out | rows/s |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {s['name']} | {s['wall_s']:.1f} | {s['cpu_s']:.1f} | {s['peak_rss_mb']:,.0f} | {s['rows_in']:,} | "
              f"{s['rows_out']:,} | {s['rows_per_s']:,.0f} |" for s in n["stages"]]
    lines += _slowest_markdown(n["slowest"])
    link = n["linkage"]
    lines += ["", f"Linkage after the next month: P {link['precision']:.4f} R {link['recall']:.4f} F1 {link['f1']:.4f}. "
                  f"Against a full relink of the same warehouse ({n['full_relink_s']:.1f} s), the clusters of the "
                  f"{before['records']:,} records linked before agree at pairwise precision {before['precision']:.5f} "
                  f"and recall {before['recall']:.5f} (1 and 1: the same clusters)."]
    return lines


def _slowest_markdown(spent: dict) -> list[str]:
    return ["", "Slowest steps: " + ", ".join(f"`{s['step']}` {s['wall_s']:.1f} s" for s in spent["steps"])
            + ". Slowest dbt nodes: " + ", ".join(f"`{n['node'].split('.')[2]}` {n['seconds']:.1f} s"
                                                  for n in spent["dbt_nodes"]) + "."]


def _load(machine_doc: dict, when: str) -> str:
    load = machine_doc.get("load_average", {}).get(when)
    return " / ".join(f"{x:.2f}" for x in load) if load else "not recorded"


def write_results(doc: dict, out: Path) -> Path:
    """FILE.json and FILE.md beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    table = out.with_suffix(".md")
    table.write_text(markdown(doc), encoding="utf-8")
    return table
