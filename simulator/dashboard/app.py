"""The what-if dashboard page: a thin Streamlit script over :mod:`simulator.dashboard.logic`.

Started by ``python run.py dashboard`` (``streamlit run`` of this file, bound to 127.0.0.1). What to run
and which numbers to show are decided in ``logic``; this script lays them out, caches the runs by scenario
content and seed, and shows a bad value as the CLI's one line (never a traceback).
"""

from __future__ import annotations

import streamlit as st

import simulator
from simulator.dashboard import charts, logic
from simulator.errors import ChannelError
from simulator.formatting import change
from simulator.planning import CompareResult
from simulator.scenario import Scenario

UPLOAD = "Upload a scenario file..."
DETAILS = ("Partners by state", "Concentration", "Payback")


# -- cached runs: keyed by the scenarios' fingerprints (their content) and the seed -------------------


@st.cache_data(max_entries=16, show_spinner=False)
def run_pair(fp_a: str, fp_b: str, replications: int, seed: int, _a: Scenario, _b: Scenario):  # noqa: ANN201
    return logic.run_pair(_a, _b, replications, seed)


@st.cache_data(max_entries=16, show_spinner=False)
def size_variant(fp: str, seed: int, _variant: Scenario):  # noqa: ANN201
    return logic.size_variant(_variant, seed)


@st.cache_data(max_entries=8, show_spinner=False)
def report_html(fp_a: str, fp_b: str, replications: int, seed: int, _a: Scenario, _b: Scenario) -> str:
    from simulator.reports.html import build_report  # matplotlib and the template: only when asked

    if fp_a == fp_b:
        return build_report(_a, replications=replications, seed=seed).html
    return build_report(_a, compare_with=_b, replications=replications, seed=seed).html


@st.cache_data(max_entries=32, show_spinner=False)
def side_chart(kind: str, fp_a: str, fp_b: str, replications: int, seed: int, _pair: CompareResult):  # noqa: ANN201
    """Partners by state or the Lorenz curves, baseline and variant side by side (drawn once per pair)."""
    if kind == "states":
        left = charts.partners_by_state(_pair.a, "Baseline (A)")
        right = charts.partners_by_state(_pair.b, "Variant (B)")
        return charts.side_by_side(left, right, "Partners by state (mean over replications)")
    left = charts.lorenz_chart(_pair.a, title="Baseline (A)")
    right = charts.lorenz_chart(_pair.b, title="Variant (B)")
    for trace in right.data:  # B's legend entries say whose they are
        trace.name = f"B: {trace.name}" if trace.name else trace.name
    month = _pair.b.scenario.horizon_months
    title = f"Revenue concentration at month {month}, trailing 12 months"
    return charts.side_by_side(left, right, title, both_legends=True)


@st.cache_data(max_entries=32, show_spinner=False)
def load_file(path: str, _modified: float) -> Scenario:
    return logic.load_choice(path)


@st.cache_data(max_entries=8, show_spinner=False)
def load_upload(name: str, content: bytes, folder: str) -> Scenario:
    return logic.scenario_from_upload(name, content, folder)


# -- the page -----------------------------------------------------------------------------------------


def choose_scenario() -> Scenario | None:
    files = logic.library()
    st.sidebar.header("Scenario")
    names = [*files, UPLOAD]
    choice = st.sidebar.selectbox("Scenario", names, key="scenario", label_visibility="collapsed")
    if choice == UPLOAD:
        uploaded = st.sidebar.file_uploader("Scenario YAML file", type=["yaml", "yml"], key="upload")
        if uploaded is None:
            st.info("Upload a scenario YAML file in the sidebar, or choose one from the library.")
            return None
        folder = str(next(iter(files.values())).parent) if files else str(logic.ROOT / "scenarios")
        return load_upload(uploaded.name, uploaded.getvalue(), folder)
    path = files[choice]
    return load_file(str(path), path.stat().st_mtime)


def run_settings() -> tuple[int, int]:
    default = logic.replications_from_env()
    options = sorted({*logic.REPLICATION_CHOICES, default})
    reps = st.sidebar.select_slider("Replications", options=options, value=default, key="replications")
    seed = st.sidebar.number_input("Seed", min_value=0, max_value=2**31 - 1, value=logic.seed_from_env(), key="seed")
    return int(reps), int(seed)


def variant_controls(base: Scenario) -> Scenario:
    fp = base.fingerprint()  # widget keys carry the baseline, so a new scenario starts from its own values
    st.sidebar.header("Variant")
    st.sidebar.caption("Sliders and switches start at the baseline's values; the variant runs on the same draws.")
    if st.sidebar.button("Reset the variant to the baseline", key="reset"):
        for key in [k for k in st.session_state if str(k).startswith(f"{fp}:")]:
            del st.session_state[key]
    keys = {}
    for c in logic.controls(base):
        value = st.sidebar.slider(
            c.label,
            min_value=int(c.low) if c.integer else float(c.low),
            max_value=int(c.high) if c.integer else float(c.high),
            value=int(c.value) if c.integer else float(c.value),
            step=int(c.step) if c.integer else float(c.step),
            format=None if c.integer else f"%.{c.decimals}f",
            key=f"{fp}:{c.key}",
            help=c.key,
        )
        keys[c.key] = value
    settings = []
    H = base.horizon_months
    with st.sidebar.expander("Program levers", expanded=False):
        for s in logic.lever_settings(base):
            on = st.toggle(
                s.name.replace("_", " "),
                value=s.on,
                key=f"{fp}:lever:{s.name}:on",
                help=logic.plain(s.note) if s.note else None,
            )
            intensity, months = s.intensity, s.months
            if on:
                intensity = st.slider(
                    "intensity",
                    0.0,
                    max(3.0, s.intensity),
                    float(s.intensity),
                    0.1,
                    key=f"{fp}:lever:{s.name}:intensity",
                )
                months = st.slider(
                    "months", 1, H, (int(s.months[0]), int(s.months[1])), key=f"{fp}:lever:{s.name}:months"
                )
            settings.append(
                logic.LeverSetting(s.name, on, float(intensity), tuple(months), s.phase, s.note, s.in_scenario)
            )
    return logic.build_variant(base, keys, settings)


def show_answers(column, answers: dict[str, logic.Answer], reference: dict[str, logic.Answer] | None) -> None:  # noqa: ANN001
    lower_is_better = {"gap", "top20_share", "gini"}
    shown = [n for n in ("revenue_last_12m", "p_plan_met", "gap", "top20_share", "gini") if n in answers]
    grid = column.columns(3)
    for i, name in enumerate(shown):
        a = answers[name]
        delta, colour = None, "normal"
        if reference is not None and a.value is not None and reference[name].value is not None:
            diff = a.value - reference[name].value
            kind = {"revenue_last_12m": "revenue_last_12m", "gap": "revenue_last_12m"}.get(name, name)
            delta = change(kind, diff, "")
            colour = "off" if diff == 0 else ("inverse" if name in lower_is_better else "normal")
        arrow = "off" if delta is not None and colour == "off" else "auto"
        grid[i % 3].metric(
            logic.plain(a.label),
            a.text,
            delta=delta,
            delta_color=colour,
            delta_arrow=arrow,
            help=logic.plain(a.detail) if a.detail else None,
        )


def page() -> None:
    st.set_page_config(page_title="Channel what-if dashboard", layout="wide")
    base = choose_scenario()
    if base is None:
        return
    reps, seed = run_settings()
    variant = variant_controls(base)
    fp_a, fp_b = base.fingerprint(), variant.fingerprint()
    with st.spinner(f"Running baseline and variant: {reps} replications each, seed {seed}..."):
        pair = run_pair(fp_a, fp_b, reps, seed, base, variant)
    cur = base.currency

    st.title(logic.plain(base.name))  # scenario text is shown as written, never read as Markdown
    if base.description:
        st.caption(logic.plain(base.description))
    same = logic.identical(pair)
    if same:
        st.success("The variant is the baseline: every paired difference is exactly 0.")
    else:
        st.info(f"The variant changes {len(pair.changes)} value(s) of the baseline; see what changed below.")

    a_answers, b_answers = logic.answers(pair.a), logic.answers(pair.b)
    left, right = st.columns(2)
    left.subheader("Baseline (A)")
    right.subheader("Variant (B)")
    show_answers(left, a_answers, None)
    show_answers(right, b_answers, a_answers)
    top = charts.fan_top(pair.a, pair.b)
    fans = charts.side_by_side(
        charts.revenue_fan(pair.a, "Baseline (A)", top),
        charts.revenue_fan(pair.b, "Variant (B)", top),
        f"Revenue, trailing 12 months, against the plan ({reps} replications, seed {seed})",
    )
    st.plotly_chart(fans, key="fans")
    st.markdown(f"**Partners by state at month {variant.horizon_months}** (means over replications)")
    st.table(_cells(logic.states_table(a_answers, b_answers)), hide_index=True)

    st.subheader("Paired differences (variant minus baseline, same replications and seed)")
    rows = logic.differences(pair)
    if same:
        st.table(_cells(logic.differences_table(rows)), hide_index=True)
    else:
        diff_col, chart_col = st.columns([5, 4])
        diff_col.table(_cells(logic.differences_table(rows)), hide_index=True)
        chart_col.plotly_chart(charts.compare_chart(pair), key="compare")
    pay = logic.payoff(pair.trajectory)
    cols = st.columns(4)
    for col, (text, value) in zip(cols, logic.payoff_lines(pay, cur, variant.horizon_months), strict=True):
        col.metric(text, value)
    if not same:
        st.markdown("**What changed**")
        st.dataframe(logic.changes_table(pair), hide_index=True, key="changes")

    # More charts on demand: each is drawn (and sent to the browser) only when asked for.
    detail = st.segmented_control("More charts", DETAILS, default=None, key="detail")
    if detail == "Partners by state":
        st.plotly_chart(side_chart("states", fp_a, fp_b, reps, seed, pair), key="states")
    elif detail == "Concentration":
        st.plotly_chart(side_chart("lorenz", fp_a, fp_b, reps, seed, pair), key="lorenz")
    elif detail == "Payback":
        st.plotly_chart(charts.payoff_chart(pay, cur), key="payoff")

    sizing_section(variant, seed)
    optimise_section(variant, reps, seed)
    downloads(base, variant, reps, seed)


def _cells(table):  # noqa: ANN001, ANN202 - a DataFrame of text
    """A table for ``st.table`` (which reads Markdown in its cells): every cell shown as written."""
    return table.map(logic.plain)


def sizing_section(variant: Scenario, seed: int) -> None:
    st.subheader("Size it")
    fp = variant.fingerprint()
    st.caption(
        f"The smallest prospects nurtured a month that meets the plan at its confidence, for the variant "
        f"({logic.SIZING_REPLICATIONS} replications, as `run.py size`)."
    )
    if st.button("Size it", key="size"):
        st.session_state[f"sized:{fp}:{seed}"] = True
    if st.session_state.get(f"sized:{fp}:{seed}"):
        try:
            with st.spinner(f"Sizing the variant's recruitment on {logic.SIZING_REPLICATIONS} replications..."):
                sizing = size_variant(fp, seed, variant)
        except ChannelError as exc:
            st.error(logic.plain(str(exc)))
            return
        st.markdown(logic.plain(sizing.message))
        st.plotly_chart(charts.sizing_chart(sizing), key="sizing")


def optimise_section(variant: Scenario, reps: int, seed: int) -> None:
    if not hasattr(simulator, "optimize"):
        return  # the optimiser is not part of this installation
    st.subheader("Optimise for budget")
    cur = variant.currency
    left, right = st.columns(2)
    budget = left.number_input(f"Program budget over the horizon ({cur})", min_value=0.0, value=0.0, key="budget")
    trials = right.number_input("Candidates to try", min_value=5, max_value=500, value=30, key="trials")
    fp = variant.fingerprint()
    if st.button("Optimise for budget", key="optimise"):
        st.session_state[f"optimise:{fp}"] = (float(budget), int(trials))
    asked = st.session_state.get(f"optimise:{fp}")
    if asked is None:
        return
    try:
        with st.spinner(f"Searching the lever catalogue: {asked[1]} candidates on {reps} replications..."):
            result = optimise(fp, asked[0], asked[1], reps, seed, variant)
    except ChannelError as exc:
        st.error(logic.plain(str(exc)))
        return
    st.markdown(logic.plain(result.message))
    if result.winner is not None:
        st.download_button(
            "The winning program as a scenario YAML",
            result.winner.to_yaml(),
            file_name="optimised.yaml",
            mime="application/x-yaml",
            key="optimised_yaml",
        )


@st.cache_data(max_entries=4, show_spinner=False)
def optimise(fp: str, budget: float, trials: int, replications: int, seed: int, _variant: Scenario):  # noqa: ANN201
    return simulator.optimize(
        _variant, levers="all", budget=budget, trials=trials, replications=replications, seed=seed, extends=False
    )


def downloads(base: Scenario, variant: Scenario, reps: int, seed: int) -> None:
    st.subheader("Downloads")
    fp_a, fp_b = base.fingerprint(), variant.fingerprint()
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        "Variant as a scenario YAML", variant.to_yaml(), file_name="variant.yaml", mime="application/x-yaml", key="yaml"
    )
    if c2.button("Prepare the HTML report", key="report"):
        st.session_state[f"report:{fp_a}:{fp_b}:{reps}:{seed}"] = True
    if st.session_state.get(f"report:{fp_a}:{fp_b}:{reps}:{seed}"):
        with st.spinner("Writing the HTML report (runs and charts)..."):
            html = report_html(fp_a, fp_b, reps, seed, base, variant)
        c2.download_button(
            "Download the HTML report", html, file_name="report.html", mime="text/html", key="report_file"
        )
    if logic.excel_export() is not None:  # the Excel export, where the reports package has it
        key = f"xlsx:{fp_a}:{fp_b}:{reps}:{seed}"
        if c3.button("Prepare the Excel workbook", key="xlsx"):
            st.session_state[key] = True
        if st.session_state.get(key):
            with st.spinner("Writing the Excel workbook..."):
                data = workbook(fp_a, fp_b, reps, seed, run_pair(fp_a, fp_b, reps, seed, base, variant))
            c3.download_button(
                "Download the Excel workbook",
                data,
                file_name="workbook.xlsx",
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                key="xlsx_file",
            )


@st.cache_data(max_entries=4, show_spinner=False)
def workbook(fp_a: str, fp_b: str, replications: int, seed: int, _pair: CompareResult) -> bytes:
    return logic.workbook_bytes(_pair)


def main() -> None:
    try:
        page()
    except ChannelError as exc:
        st.error(logic.plain(str(exc)))  # the same one line as the CLI prints (shown as written)
    except Exception as exc:  # noqa: BLE001 - the page shows one line, never a traceback
        st.error(logic.plain(f"internal error ({type(exc).__name__}: {exc}); please report it"))


main()
