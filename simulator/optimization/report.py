"""The optimisation section of the HTML report, rendered from an ``optimize`` folder.

The front (every candidate searched: cost against the objective, or the two
first objectives; those over budget marked), the chosen program, what it
costs and earns against the scenario's own program (paired, with 90%
intervals), ROI and payback. The fragment is rendered by Jinja2 with
autoescape (lever names and descriptions are text, never markup) and embeds
its chart as PNG data, so the report stays one self-contained file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..formatting import money
from .reevaluate import pareto_front
from .result import read_result, roi_text

TEMPLATE = """
<h2 id="optimization">Program optimisation</h2>
<div class="answers">
  {% if winner %}
  <div class="card good" id="answer-optimization">
    <h3>Best program for {{ budget }}</h3>
    <p><span class="big" id="optimization-program">{{ winner.candidate }}</span></p>
    <p>{{ objective }}: {{ winner.new }} against {{ winner.own }} with the scenario's own program,
      {{ winner.diff }} (90% interval {{ winner.low }} to {{ winner.high }}, paired on {{ replications }} fresh
      futures).</p>
    <p>It costs {{ winner.cost }} on average (overspends in {{ winner.p_overspend }} of futures); ROI {{ winner.roi }};
      payback {{ winner.payback }}. Probability it is truly the best of the {{ reran }} re-run:
      {{ winner.p_best }}; no other is better by more than {{ winner.tolerance }} (99%).</p>
  </div>
  {% else %}
  <div class="card warn" id="answer-optimization"><h3>No program within {{ budget }}</h3><p>{{ message }}</p></div>
  {% endif %}
</div>
{% if dropped %}<p class="note">Screening (Morris) dropped levers without effect: {{ dropped }}.</p>{% endif %}
<figure>
  <img src="data:image/png;base64,{{ chart.data }}" alt="Optimisation front" width="{{ chart.width }}"
    height="{{ chart.height }}">
  <figcaption>{{ chart.caption }}</figcaption>
</figure>
{% if rows %}
<table id="optimization-figures">
  <tr><th>figure</th><th>today's program</th><th>best program</th><th>difference (90% interval)</th></tr>
  {% for row in rows %}<tr><td>{{ row.label }}</td><td class="num">{{ row.own }}</td><td class="num">{{ row.new }}</td>
    <td class="num">{{ row.diff }}</td></tr>{% endfor %}
</table>
{% endif %}
<table id="optimization-candidates">
  <tr><th>trial</th><th>program re-run</th>{% for o in objectives %}<th>{{ o }}</th>{% endfor %}<th>cost</th>
    <th>P(best)</th></tr>
  {% for row in candidates %}<tr><td>{{ row.trial }}</td><td>{{ row.candidate }}</td>
    {% for v in row.cells %}<td class="num">{{ v }}</td>{% endfor %}<td class="num">{{ row.cost }}</td>
    <td class="num">{{ row.p_best }}</td></tr>{% endfor %}
</table>
"""


def optimization_section(folder: str | Path) -> markupsafe.Markup:
    """The report's optimisation section (an HTML fragment) from the outputs of ``optimize --out folder``."""
    summary, trials, reevaluation = read_result(folder)
    cur = summary["currency"]
    objectives = summary["objectives"]
    first = objectives[0]
    win = summary["winner"]

    def value(o: dict[str, Any], x: float | None) -> str:
        if x is None:
            return "-"
        return money(x, cur) if o["money"] else f"{100 * x:.1f}%"

    def signed(o: dict[str, Any], x: float) -> str:
        return ("+" if x > 0 else "") + (money(x, cur) if o["money"] else f"{100 * x:.1f} pts")

    winner = None
    rows = []
    if win is not None:
        d = win["differences"]
        f = d[first["name"]]
        winner = {
            "candidate": win["candidate"],
            "new": value(first, f["new"]),
            "own": value(first, f["own"]),
            "diff": signed(first, f["mean"]),
            "low": signed(first, f["low"]),
            "high": signed(first, f["high"]),
            "cost": money(win["program_cost_mean"], cur),
            "p_overspend": f"{100 * win['p_overspend']:.0f}%",
            "roi": roi_text(win["roi"], d),
            "payback": "not within the horizon" if win["payback_month"] is None else f"month {win['payback_month']}",
            "p_best": f"{100 * (win['p_best'] or 0):.0f}%",
            "tolerance": money(win["tolerance"] or 0.0, cur),
        }
        money_row = {"money": True}
        for key, label in (
            ("contribution_total", "Contribution over the horizon"),
            ("revenue_last_12m", "Revenue, last 12 months"),
            ("program_cost", "Program cost over the horizon"),
        ):
            x = d[key]
            rows.append(
                {
                    "label": f"{label} ({cur})",
                    "own": money(x["own"]),
                    "new": money(x["new"]),
                    "diff": f"{signed(money_row, x['mean'])} ({signed(money_row, x['low'])} to "
                    f"{signed(money_row, x['high'])})",
                }
            )
    candidates = []
    for r in reevaluation.itertuples():
        candidates.append(
            {
                "trial": "today" if r.trial < 0 else str(r.trial),
                "candidate": str(r.candidate) + ("" if r.feasible else " (over budget)"),
                "cells": [value(o, float(getattr(r, o["name"]))) for o in objectives],
                "cost": money(float(r.program_cost_mean), cur),
                "p_best": "-" if pd.isna(r.p_best) else f"{100 * r.p_best:.0f}%",
            }
        )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    html = env.from_string(TEMPLATE).render(
        winner=winner,
        budget=summary["budget"]["text"],
        objective=first["label"],
        replications=summary["reevaluation"]["replications"],
        reran=max(len(reevaluation) - 1, 0),
        message=summary["message"],
        dropped=", ".join(summary.get("dropped") or []),
        chart=_png(front_chart(summary, trials)),
        rows=rows,
        objectives=[o["name"] for o in objectives],
        candidates=candidates,
    )
    return markupsafe.Markup(html)


def front_chart(summary: dict[str, Any], trials: pd.DataFrame) -> tuple[Figure, str]:
    """Every candidate searched, the front within budget, the budget and the winner (matplotlib object API)."""
    objectives = summary["objectives"]
    cur = summary["currency"]
    first = objectives[0]
    two = len(objectives) > 1 and objectives[1]["name"] != "cost"
    x_col, x_label = (objectives[1]["name"], objectives[1]["label"]) if two else ("cost_mean", f"Program cost ({cur})")
    fig = Figure(figsize=(8, 4.2))
    ax = fig.add_subplot()
    ok = trials["feasible"].astype(bool)
    ax.scatter(trials.loc[~ok, x_col], trials.loc[~ok, first["name"]], s=14, c="#d5d8dc", label="over budget")
    ax.scatter(trials.loc[ok, x_col], trials.loc[ok, first["name"]], s=16, c="#85c1e9", label="within budget")
    if two:
        front = trials[trials["on_front"].astype(bool)]
    else:  # one objective: the best found for each level of cost (the cost-objective front)
        sign = 1.0 if first["direction"] == "maximize" else -1.0
        scores = np.column_stack([sign * trials[first["name"]].to_numpy(float), -trials["cost_mean"].to_numpy(float)])
        keep = np.zeros(len(trials), bool)
        keep[ok.to_numpy()] = pareto_front(scores[ok.to_numpy()]) if ok.any() else []
        front = trials[keep]
    front = front.sort_values(x_col)
    ax.plot(front[x_col], front[first["name"]], "o-", c="#1f4e79", ms=5, lw=1.2, label="front")
    win = summary["winner"]
    if win is not None and win["trial"] in set(trials["trial"]):
        row = trials[trials["trial"] == win["trial"]].iloc[0]
        ax.scatter([row[x_col]], [row[first["name"]]], marker="*", s=220, c="#e67e22", zorder=5, label="chosen")
    if not two and not summary["budget"]["per_year"]:
        ax.axvline(summary["budget"]["amount"], ls="--", c="#e74c3c", lw=1, label="budget")
    ax.set_xlabel(x_label)
    ax.set_ylabel(first["label"])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money(v) if first["money"] else f"{100 * v:.0f}%"))
    if not two or objectives[1]["money"]:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: money(v)))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    caption = (
        f"The {len(trials)} candidates searched ({summary['settings']['replications']} replications each, the same "
        f"futures for all): {first['label']} against {x_label}; the line joins the best within budget "
        "(the Pareto front), the star is the program chosen after re-running the top candidates on fresh futures."
    )
    return fig, caption


def _png(figure_and_caption: tuple[Figure, str]) -> dict[str, Any]:
    from ..reports.html import _png as embed  # the report's one way of embedding a chart

    return embed(*figure_and_caption)
