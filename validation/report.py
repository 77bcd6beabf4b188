"""Reports of a validation run: a terminal table, ``results.json``, ``report.md`` and a
self-contained ``report.html`` (figures embedded as data URIs), all in one directory."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from fpsolve.jsonable import jsonable

from .framework import CONTRADICTED, FAIL, HOLDS, HOLDS_AFTER_CORRECTION, VERDICTS

SCHEMA = 1
COLUMNS = ("paper", "case", "verdict", "key number", "time")


def _rows(records):
    return [(r["paper"], r["name"], r["verdict"], r["key_number"], f"{r['duration_s']:.1f} s")
            for r in records]


def summary_table(records, max_key: int = 60) -> str:
    """The summary as aligned plain text: paper, case, verdict, key number, time."""
    rows = [tuple(c if i != 3 or len(c) <= max_key else c[:max_key - 1] + "…"
                  for i, c in enumerate(row)) for row in _rows(records)]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(COLUMNS)]
    align = ["<", "<", "<", "<", ">"]

    def fmt(row):
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip()

    lines = [fmt(COLUMNS), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in rows]
    return "\n".join(lines)


def counts_line(counts: dict) -> str:
    """The verdict counts as one phrase ("28 holds, 2 holds after correction, …")."""
    return ", ".join(f"{n} {v}" for v, n in counts.items() if n) or "no cases"


def write_report(result, out_dir) -> dict:
    """Write results.json, report.md and report.html to ``out_dir``; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "schema": SCHEMA, "mode": result.mode, "jobs": result.jobs, "started": result.started,
        "duration_s": round(result.duration_s, 3), "counts": result.counts,
        "exit_status": 1 if result.failed else 0, **jsonable(result.metadata),
    }
    paths = {"json": out / "results.json", "md": out / "report.md", "html": out / "report.html"}
    doc = {**meta, "cases": result.records}
    paths["json"].write_text(json.dumps(jsonable(doc), indent=1, ensure_ascii=False) + "\n",
                             encoding="utf-8")
    paths["md"].write_text(markdown(result.records, meta), encoding="utf-8")
    paths["html"].write_text(to_html(result.records, meta, out), encoding="utf-8")
    return paths


# ---------------------------------------------------------------------------------------------
# markdown
# ---------------------------------------------------------------------------------------------
def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        if len(value) > 8:
            return "[" + ", ".join(_fmt(v) for v in value[:8]) + f", … ({len(value)} values)]"
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    return str(value)


def _error_text(check: dict) -> str:
    """'abs 1.2e-05, rel 3e-04' (the relative part only where the target is non-zero)."""
    a, r = check.get("abs_error"), check.get("rel_error")
    if not isinstance(a, float):
        return _fmt(a)
    text = f"abs {a:.2g}"
    if isinstance(r, float) and r != 0.0:
        text += f", rel {r:.2g}"
    return text


def _md_cell(value) -> str:
    return _fmt(value).replace("|", "\\|").replace("\n", " ")


def markdown(records, meta) -> str:
    """The report as Markdown (report.md): a summary, then every case with its checks."""
    v = meta.get("versions", {})
    lines = [
        "# fpsolve validation report", "",
        f"Mode **{meta['mode']}**, {len(records)} cases, {meta['duration_s']:.1f} s "
        f"({meta['jobs']} process(es)), started {meta['started']}.  ",
        "Verdicts: " + counts_line(meta["counts"]) + ".  ",
        "Versions: " + ", ".join(f"{k} {x}" for k, x in v.items() if isinstance(x, str)) + ".",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in _rows(records):
        lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    lines.append("")
    left_out = meta.get("left_out") or []
    if left_out:
        lines += ["## Left out", "", "Not run on this install, for a missing optional package "
                  "(not a FAIL):", ""]
        lines += [f"- `{c['case']}` ({c['title']}): needs {', '.join(c['needs'])}"
                  for c in left_out]
        lines.append("")
    for r in records:
        lines += [f"## {r['paper']}/{r['name']}: {r['verdict']}", "", f"**{r['title']}**", ""]
        for label, key in (("Equation", "equation"), ("Claim as printed", "claim"),
                           ("Corrected form", "corrected_claim"), ("Method", "method"),
                           ("Reference", "reference_method"), ("Tolerance", "tolerance_note")):
            if r.get(key):
                lines.append(f"- *{label}*: {r[key]}")
        lines += [f"- *Verdict*: {r['verdict']} — {r['reason']}", f"- *Time*: "
                  f"{r['duration_s']:.2f} s", ""]
        if r["checks"]:
            lines += ["| quantity | fpsolve | reference | printed | corrected | error | "
                      "tolerance | verdict |", "|---|---|---|---|---|---|---|---|"]
            for c in r["checks"]:
                lines.append("| " + " | ".join(_md_cell(x) for x in (
                    c["quantity"], c["numerical"], c["reference"], c["printed"], c["corrected"],
                    _error_text(c), c["tolerance"], c["verdict"])) + " |")
            lines.append("")
            whys = [f"- {c['quantity']}: {c['why']}" for c in r["checks"] if c.get("why")]
            if whys:
                lines += ["Why these tolerances:", "", *whys, ""]
        if r["numbers"]:
            lines += ["<details><summary>all numbers</summary>", "", "```json",
                      json.dumps(r["numbers"], indent=1, ensure_ascii=False), "```", "",
                      "</details>", ""]
        if r.get("figure"):
            lines += [f"![{r['paper']}/{r['name']}]({r['figure']})", ""]
        if r.get("warnings"):
            lines += ["Warnings:", "", *[f"- `{w}`" for w in r["warnings"]], ""]
        if r.get("error"):
            lines += ["```text", r["error"].rstrip(), "```", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# html
# ---------------------------------------------------------------------------------------------
_COLOURS = {HOLDS: "#1a7f37", HOLDS_AFTER_CORRECTION: "#2f6fb3", CONTRADICTED: "#b36b00",
            FAIL: "#c62828"}
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-weight:600} pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:.85em}
section{border-top:1px solid #ddd;margin-top:1.5em} img{max-width:100%}
dt{font-style:italic;float:left;clear:left;width:10em} dd{margin-left:11em}
"""


def _verdict_html(v: str) -> str:
    return (f'<span class="verdict" style="color:{_COLOURS.get(v, "#222")}">'
            f"{html.escape(v)}</span>")


def _img(out: Path, rel: str) -> str:
    path = out / rel
    if not path.is_file():
        return f"<p>(figure {html.escape(rel)} missing)</p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<p><img alt="{html.escape(rel)}" src="data:image/png;base64,{data}"></p>')


def to_html(records, meta, out: Path) -> str:
    """The report as a self-contained HTML page (report.html), figures linked from ``out``."""
    e = html.escape
    v = meta.get("versions", {})
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>fpsolve validation report</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>fpsolve validation report</h1>",
        f"<p>Mode <b>{e(meta['mode'])}</b>, {len(records)} cases, {meta['duration_s']:.1f} s "
        f"({meta['jobs']} process(es)), started {e(meta['started'])}.<br>",
        "Verdicts: " + ", ".join(f"{n} {_verdict_html(k)}" for k, n in meta["counts"].items()
                                 if n) + "<br>",
        "Versions: " + e(", ".join(f"{k} {x}" for k, x in v.items() if isinstance(x, str)))
        + "</p>",
        "<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in COLUMNS) + "</tr>",
    ]
    for r, row in zip(records, _rows(records)):
        anchor = e(f"{r['paper']}-{r['name']}")
        parts.append(f"<tr><td>{e(row[0])}</td><td><a href='#{anchor}'>{e(row[1])}</a></td>"
                     f"<td>{_verdict_html(row[2])}</td><td>{e(row[3])}</td>"
                     f"<td class='num'>{e(row[4])}</td></tr>")
    parts.append("</table>")
    left_out = meta.get("left_out") or []
    if left_out:
        parts.append("<h2>Left out</h2><p>Not run on this install, for a missing optional "
                     "package (not a FAIL):</p><ul>")
        parts += [f"<li><code>{e(c['case'])}</code> ({e(c['title'])}): needs "
                  f"{e(', '.join(c['needs']))}</li>" for c in left_out]
        parts.append("</ul>")
    for r in records:
        anchor = e(f"{r['paper']}-{r['name']}")
        parts += [f"<section id='{anchor}'><h2>{e(r['paper'])}/{e(r['name'])}: "
                  f"{_verdict_html(r['verdict'])}</h2>", f"<p><b>{e(r['title'])}</b></p><dl>"]
        for label, key in (("Equation", "equation"), ("Claim as printed", "claim"),
                           ("Corrected form", "corrected_claim"), ("Method", "method"),
                           ("Reference", "reference_method"), ("Tolerance", "tolerance_note")):
            if r.get(key):
                parts.append(f"<dt>{label}</dt><dd>{e(r[key])}</dd>")
        parts.append(f"<dt>Verdict</dt><dd>{_verdict_html(r['verdict'])} — {e(r['reason'])}</dd>"
                     f"<dt>Time</dt><dd>{r['duration_s']:.2f} s</dd></dl>")
        if r["checks"]:
            head = ("quantity", "fpsolve", "reference", "printed", "corrected", "error",
                    "tolerance", "verdict", "why")
            parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>")
            for c in r["checks"]:
                cells = [e(_fmt(c[k])) for k in ("quantity", "numerical", "reference", "printed",
                                                 "corrected")]
                cells += [e(_error_text(c)), e(c["tolerance"])]
                cells += [_verdict_html(c["verdict"]), e(c.get("why") or "")]
                parts.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
            parts.append("</table>")
        if r["numbers"]:
            parts.append("<details><summary>all numbers</summary><pre>"
                         + e(json.dumps(r["numbers"], indent=1, ensure_ascii=False))
                         + "</pre></details>")
        if r.get("figure"):
            parts.append(_img(out, r["figure"]))
        if r.get("warnings"):
            parts.append("<p>Warnings:</p><ul>" + "".join(f"<li><code>{e(w)}</code></li>"
                                                        for w in r["warnings"]) + "</ul>")
        if r.get("error"):
            parts.append(f"<pre>{e(r['error'])}</pre>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


__all__ = ["summary_table", "write_report", "markdown", "to_html", "counts_line", "VERDICTS"]
