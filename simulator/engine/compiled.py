"""The compiled kernel: the monthly rules of :mod:`simulator.engine.kernel`, company by company, in numba.

The numpy kernel (``engine="numpy"``) is the readable reference; this module computes the same month
with loops compiled by numba: the small per-(replication, state, segment) tables (hazards, growth,
multipliers, costs) are still built by the shared numpy code, and these functions do the per-company
work a replication at a time, in parallel over replications (``prange``). A replication reads only its
own rows and its own random numbers (a pure function of seed, replication, month, purpose and
company, :mod:`simulator.engine.streams`), so its numbers are the same on any number of threads, and
the same as the numpy kernel's: identical states and flows, revenue equal up to the order of
floating-point sums.

Only companies that can move draw a uniform, only earning partners draw a normal, and a company's
trailing-12-month revenue is added up only while it has earned in the last 12 months (a prospect or a
churned company silent for longer is skipped outright). A month is the growth of the partners that can
grow (their normals drawn in one vectorized batch, the list kept from the month before), then one pass
over the companies (each one's move, then its revenue); a nurtured prospect's size-elastic win threshold
(a power and an ``expm1``) is computed once and kept while its multiplier holds. Normals drawn in
batches are the same numbers, bit for bit, as one at a time.

Every function is compiled once per environment (``cache=True``: numba's cache beside this file, or
under ``NUMBA_CACHE_DIR``) and with ``parallel=True`` only: the thread count is set at run time, so
one compiled version serves one thread or many (no serial twin that could share its cache entry).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable

import numba
import numpy as np
from numba import njit, prange

from ..errors import ChannelError

if "NUMBA_THREADING_LAYER" not in os.environ:
    # numba's own thread pool: always there, and safe to fork from (process pools fork from a process that
    # may have run the kernel); GNU OpenMP, numba's first choice, is not. The GIL serialises calls.
    numba.config.THREADING_LAYER = "workqueue"
from ..vocabulary import IS_IN_CHANNEL, MAX_MOVES, State
from . import streams as st
from .population import NEVER, NO_DEADLINE

_mix = njit(inline="always", error_model="numpy")(st.mix)
_counter = njit(inline="always", error_model="numpy")(st.counter)
_unit = njit(inline="always", error_model="numpy")(st.unit)
_open_unit = njit(inline="always", error_model="numpy")(st.open_unit)
_central = njit(inline="always", error_model="numpy")(st.central)
_tail = njit(inline="always", error_model="numpy")(st.tail)
_P_LOW = st.P_LOW

_PROSPECT, _NURTURING, _SIGNED = int(State.PROSPECT), int(State.NURTURING), int(State.SIGNED)
_ACTIVE, _COLLABORATING, _DORMANT = int(State.ACTIVE), int(State.COLLABORATING), int(State.DORMANT)
_NEVER, _NO_DEADLINE = int(NEVER), int(NO_DEADLINE)
_TRANSITION, _GROWTH = int(st.Purpose.TRANSITION), int(st.Purpose.GROWTH)
_CHANNEL_POTENTIAL, _PROSPECT_POTENTIAL, _FIT_NOISE = (
    int(st.Purpose.CHANNEL_POTENTIAL),
    int(st.Purpose.PROSPECT_POTENTIAL),
    int(st.Purpose.FIT_NOISE),
)
_IN_CHANNEL = IS_IN_CHANNEL.copy()
_MM = MAX_MOVES


@njit(inline="always", error_model="numpy")
def _scrambled(month, purpose, index):
    """``mix(counter)``: the half of a number's hash that every replication shares (tabled per block)."""
    return _mix(_counter(purpose, month, np.uint64(index)))


@njit(inline="always", error_model="numpy")
def _uniform(key, scrambled):
    return _unit(_mix(key ^ scrambled))


@njit(inline="always", error_model="numpy")
def _normal(key, scrambled):
    p = _open_unit(_mix(key ^ scrambled))
    if p < _P_LOW:
        return _tail(math.sqrt(-2.0 * math.log(p)))
    if p > 1.0 - _P_LOW:
        return -_tail(math.sqrt(-2.0 * math.log(1.0 - p)))
    return _central(p - 0.5)


@njit(inline="always", error_model="numpy")
def _normals(key, scrambled, out):
    """``out[i] = _normal(key, scrambled[i])``, bit for bit: the central formula for every number in one
    branch-free loop the compiler vectorizes, then the tails (one number in 20) mended one by one."""
    for i in range(scrambled.shape[0]):
        out[i] = _central(_open_unit(_mix(key ^ scrambled[i])) - 0.5)
    for i in range(scrambled.shape[0]):
        p = _open_unit(_mix(key ^ scrambled[i]))
        if p < _P_LOW:
            out[i] = _tail(math.sqrt(-2.0 * math.log(p)))
        elif p > 1.0 - _P_LOW:
            out[i] = -_tail(math.sqrt(-2.0 * math.log(1.0 - p)))


# -- month 0: potentials, fit scores and the fit-score order -------------------------------------


@njit(parallel=True, cache=True, error_model="numpy")
def draw_market(
    keys, channel_segment, prospect_segment, mu, median, sigma, mean, sd, accuracy, listed_std, reach,
    segment, potential, fit_score, company,
):  # fmt: skip
    """Fill ``segment``, ``potential``, ``fit_score`` and ``company`` ``(R, N)`` as the numpy population does.

    ``mu``/``sigma`` are ``(R, G)``, ``mean``/``sd``/``accuracy`` ``(R,)``; ``listed_std`` holds a
    prospect list's standardised scores (empty without one). The ``reach`` best-scored prospects come
    first, best first, ties by list order; the rest follow in list order.
    """
    R = keys.shape[0]
    P = channel_segment.shape[0]
    n = prospect_segment.shape[0]
    listed = listed_std.shape[0] > 0
    channel_counter = np.empty(P, np.uint64)
    for j in range(P):
        channel_counter[j] = _scrambled(0, _CHANNEL_POTENTIAL, j)
    potential_counter = np.empty(n, np.uint64)
    noise_counter = np.empty(n, np.uint64)
    for i in range(n):
        potential_counter[i] = _scrambled(0, _PROSPECT_POTENTIAL, i)
        noise_counter[i] = _scrambled(0, _FIT_NOISE, i)
    for r in prange(R):
        key = keys[r]
        z_channel = np.empty(P)
        _normals(key, channel_counter, z_channel)
        for j in range(P):
            g = channel_segment[j]
            segment[r, j] = g
            potential[r, j] = median[r, g] * math.exp(sigma[r, g] * z_channel[j])
            fit_score[r, j] = np.nan
            company[r, j] = j
        a = accuracy[r]
        rest = math.sqrt(max(0.0, 1.0 - a * a))
        fit = np.empty(n)
        deviation = np.empty(n)  # log potential less the segment's log median
        z_potential = np.empty(n)
        z_noise = np.empty(n)
        _normals(key, potential_counter, z_potential)
        _normals(key, noise_counter, z_noise)
        for i in range(n):
            g = prospect_segment[i]
            z = z_potential[i]
            noise = z_noise[i]
            if listed:
                fit[i] = listed_std[i, 0]
                deviation[i] = sigma[r, g] * (a * listed_std[i, 1] + rest * z)
            else:
                deviation[i] = sigma[r, g] * z
                zz = ((mu[r, g] + deviation[i]) - mean[r]) / sd[r] if sd[r] > 0 else 0.0
                fit[i] = a * zz + rest * noise
        order = fit_order(fit, reach)
        for c in range(n):
            i = order[c]
            segment[r, P + c] = prospect_segment[i]
            potential[r, P + c] = median[r, prospect_segment[i]] * math.exp(deviation[i])
            fit_score[r, P + c] = fit[i]
            company[r, P + c] = P + i


@njit(cache=True, error_model="numpy")
def fit_order(fit, reach):
    """The ``reach`` highest scores first (best first, ties by index), then the others by index."""
    n = fit.shape[0]
    reach = min(max(reach, 0), n)
    order = np.empty(n, np.int64)
    if reach == 0:
        for i in range(n):
            order[i] = i
        return order
    cut = -np.partition(-fit, reach - 1)[reach - 1]  # the reach-th highest score
    top = np.empty(reach, np.int64)
    taken = np.zeros(n, np.bool_)
    k = 0
    for i in range(n):
        if fit[i] > cut:
            top[k] = i
            k += 1
    for i in range(n):
        if k == reach:
            break
        if fit[i] == cut:
            top[k] = i
            k += 1
    ranked = top[np.argsort(-fit[top], kind="mergesort")]  # stable: ties keep index order
    for c in range(reach):
        order[c] = ranked[c]
        taken[ranked[c]] = True
    c = reach
    for i in range(n):
        if not taken[i]:
            order[c] = i
            c += 1
    return order


@njit(parallel=True, cache=True, error_model="numpy")
def cut_to_reach(partners, reach, segment, potential, fit_score, company):
    """In place: markets drawn with every prospect ranked become :func:`draw_market`'s for ``reach``.

    The ``reach`` best-scored prospects keep their places (the first ``reach`` of a full ranking are exactly
    the ``reach`` best, best first, ties by list order); the others go back to list order.
    """
    R, N = segment.shape
    n = N - partners
    first = partners + min(max(reach, 0), n)  # the first column of the unranked tail
    for r in prange(R):
        tail = N - first
        at = np.full(n, -1, np.int64)  # the tail position of each prospect in it
        for k in range(tail):
            at[company[r, first + k] - partners] = k
        seg = segment[r, first:].copy()
        pot = potential[r, first:].copy()
        fit = fit_score[r, first:].copy()
        comp = company[r, first:].copy()
        c = first
        for i in range(n):
            k = at[i]
            if k >= 0:
                segment[r, c] = seg[k]
                potential[r, c] = pot[k]
                fit_score[r, c] = fit[k]
                company[r, c] = comp[k]
                c += 1


# -- months 1..H -------------------------------------------------------------------------------


@njit(inline="always", error_model="numpy")
def _movable(s):
    """A state a company can move out of by itself (the market's prospects wait to be nurtured; churn is final)."""
    return s != _PROSPECT and s <= _DORMANT


@njit(inline="always", error_model="numpy")
def _thresholds(h, cum):
    """One row of :func:`simulator.engine.transitions.thresholds`: cumulative move probabilities of hazards ``h``
    into ``cum`` (which holds the running shares first)."""
    n = h.shape[0]
    infinite = 0
    total = 0.0
    for k in range(n):
        if math.isinf(h[k]):
            infinite += 1
        else:
            total += h[k]
    leave = 1.0 if infinite > 0 else -math.expm1(-total)
    cs = 0.0
    shares = cum
    for k in range(n):
        if infinite > 0:
            share = (1.0 if math.isinf(h[k]) else 0.0) / max(infinite, 1)
        else:
            share = h[k] / total if total > 0 else 0.0
        cs += share
        shares[k] = cs
    last = shares[n - 1]
    for k in range(n):
        cum[k] = leave if shares[k] >= last else min(leave * shares[k], leave)


@njit(parallel=True, cache=True, error_model="numpy")
def run_months(
    first_month, last_month, year_ago_month, partners, width, per_month, nurture_months, window_months,
    cooloff_months, ramp_start, ramp_months, measure, q, keys,
    cum, active_hazard, adoption_hazard, adoption_multiplier, peer_effect, size_factor, win_share, signings_per_year,
    win_multiplier, drift, sd, earn, dest,
    state, segment, entered, deadline, eligible_from, run_rate, potential, signed_month, first_deal,
    collaborating_months, last_earned, trailing, ranked, n_ranked, is_ranked, counts, ring, run_rate_year_ago,
    tier, tier_counts, tier_thresholds, review_months,
    transitions, activations, reactivations, signings, revenue, revenue_t12m, revenue_by_state, counts_by_month,
    concentration, tier_counts_charged, tier_counts_by_month, promotions_in, demotions_in,
):  # fmt: skip
    """Advance every replication from month ``first_month`` to ``last_month`` as the numpy kernel's ``step`` does.

    Each replication runs its months in turn (its state stays in the core's cache), on its own thread.
    Month tables cover the months of this run (index ``t = m - first_month``) and end in the partner
    tier (``n`` tiers; 1 without): ``cum`` (t, 1 or R, S, G, n, MAX_MOVES) competing-risk thresholds
    without the peer effect; active partners' thresholds are rebuilt each month from ``active_hazard``
    (t, 1 or R, G, n, MAX_MOVES) with the adoption hazard ``adoption_hazard`` (1 or R) x
    ``adoption_multiplier`` (t, G, n) x (1 + ``peer_effect`` x the collaborating share). ``drift``/``sd``
    (1 or R, t, S, G, n), ``earn`` (t, S, G, n); with size elasticity ``size_factor`` (R, W),
    ``win_share``/``signings_per_year`` (R,), ``win_multiplier`` (t, G). Tiers: ``tier`` (R, W),
    ``tier_counts`` (R, n) in-channel partners by tier, reviews at months ``review_months``,
    2 x ``review_months``... (0: never) against ``tier_thresholds`` (n,).
    Outputs by replication and ``t``: ``transitions`` (S, S), first deals, reactivations, signings by
    segment, revenue, trailing-12-month revenue, revenue by state, segment and tier, counts by state and
    segment, (``measure``) the seven concentration figures, partners by tier before the month's review
    (what the month is charged for) and after it, and the review's moves into each tier, up and down.
    """
    R = keys.shape[0]
    S = counts.shape[1]
    G = counts.shape[2]
    n_tiers = tier_counts.shape[1]
    elastic = size_factor.shape[0] > 0
    varies = cum.shape[1] > 1  # parameter uncertainty: one table per replication
    grows_per_rep = drift.shape[0] > 1
    counters = np.empty((last_month - first_month + 1, width, 2), np.uint64)
    for m in range(first_month, last_month + 1):
        for c in range(width):
            counters[m - first_month, c, 0] = _scrambled(m, _TRANSITION, c)
            counters[m - first_month, c, 1] = _scrambled(m, _GROWTH, c)
    grows = np.zeros(S, np.bool_)  # movable states whose run-rates grow in some month of this run (earning ones)
    for s in range(S):
        grows[s] = _movable(s) and (np.any(drift[:, :, s] != 0.0) or np.any(sd[:, :, s] != 0.0))
    for r in prange(R):
        key = keys[r]
        rp = np.int64(r) if varies else np.int64(0)
        rg = np.int64(r) if grows_per_rep else np.int64(0)
        h = np.empty(_MM)
        active_cum = np.empty((G, n_tiers, _MM))
        values = np.empty(width)
        member = np.zeros(width, np.bool_)
        joining = np.empty(width, np.int64)
        win_mult_used = np.full(width, np.nan)  # the size-elastic win threshold, kept while its multiplier holds
        win_threshold = np.empty(width)
        # the companies whose run-rate can grow this month, in column order: found by a scan in the run's first
        # month, then kept by each month's pass (their end-of-month states are next month's)
        growers = np.empty(width, np.int64)
        n_growers = 0
        for c in range(min(width, partners + per_month * max(first_month - 1, 0))):
            if grows[state[r, c]]:
                growers[n_growers] = c
                n_growers += 1
        growth_counter = np.empty(width, np.uint64)
        z = np.empty(width)
        for m in range(first_month, last_month + 1):
            t = m - first_month  # month tables and outputs cover the months of this run only
            K = min(width, partners + per_month * max(m - 1, 0))
            stop = min(width, partners + per_month * m)
            slot = m % 12
            # the peer effect: adoption grows with the share of earning partners that collaborate
            earning = 0
            collaborating = 0
            for g in range(G):
                earning += counts[r, _ACTIVE, g] + counts[r, _COLLABORATING, g]
                collaborating += counts[r, _COLLABORATING, g]
            share = collaborating / earning if earning > 0 else 0.0
            for g in range(G):
                for tt in range(n_tiers):
                    for k in range(_MM):
                        h[k] = active_hazard[t, rp, g, tt, k]
                    mp = adoption_multiplier[t, g, tt] * (1.0 + peer_effect[rp] * share)
                    h[2] = 0.0 if mp == 0.0 else adoption_hazard[rp] * mp
                    _thresholds(h, active_cum[g, tt])
            n_first = 0
            n_first_from_dormant = 0
            cum_t, drift_t, sd_t, earn_t, counter_t = cum[t, rp], drift[rg, t], sd[rg, t], earn[t], counters[t]
            # growth by start-of-month state, before the moves (a first deal then resets the run-rate to potential):
            # the growers' normals in one vectorized batch, as each company would draw its own
            for i in range(n_growers):
                growth_counter[i] = counter_t[growers[i], 1]
            _normals(key, growth_counter[:n_growers], z)
            for i in range(n_growers):
                c = growers[i]
                s = state[r, c]
                g = segment[r, c]
                tt = tier[r, c]
                dr, sg = drift_t[s, g, tt], sd_t[s, g, tt]
                if dr != 0.0 or sg != 0.0:
                    run_rate[r, c] *= math.exp(dr + sg * z[i])
            n_growers = 0
            # one pass over the companies: the month's move (start-of-month states decide), then its revenue by
            # the end-of-month state. Recruitment comes after: it turns prospects, which earn nothing and have
            # never earned, into nurtured prospects, which earn nothing either, so their revenue is the same.
            total = 0.0
            t12_total = 0.0
            n_earning = 0
            n_joining = 0
            for c in range(K):
                s = state[r, c]
                movable = _movable(s)
                if not movable and m - last_earned[r, c] > 12:
                    # a prospect or a churned company silent for over 12 months: no move, no revenue, and its
                    # ring holds only zeros (its trailing 12 months are exactly 0): nothing to add or write
                    if measure:
                        member[c] = False
                    continue
                g = segment[r, c]
                tt = tier[r, c]
                if movable:
                    u = _uniform(key, counter_t[c, 0])
                    if elastic and s == _NURTURING:
                        mult = win_multiplier[t, g] * size_factor[r, c]
                        if mult != win_mult_used[c]:  # the same multiplier gives the same threshold
                            win = 1.0 - (1.0 - win_share[r]) ** mult
                            win_threshold[c] = -math.expm1(-signings_per_year[r] * win / 12.0)
                            win_mult_used[c] = mult
                        threshold = win_threshold[c]
                    elif s == _ACTIVE:
                        threshold = active_cum[g, tt, _MM - 1]
                    else:
                        threshold = cum_t[s, g, tt, _MM - 1]
                    random_move = u < threshold
                    if random_move or deadline[r, c] == m:
                        if elastic and s == _NURTURING:
                            k = 0 if random_move else _MM
                        else:
                            k = 0
                            for j in range(_MM):
                                if u >= (active_cum[g, tt, j] if s == _ACTIVE else cum_t[s, g, tt, j]):
                                    k += 1
                        new = dest[s, k]
                        if s == _COLLABORATING:
                            collaborating_months[r, c] += m - max(entered[r, c], 1)
                        entered[r, c] = m
                        if new == _NURTURING:
                            deadline[r, c] = m + nurture_months
                        elif new == _SIGNED:
                            deadline[r, c] = m + window_months
                        else:
                            deadline[r, c] = _NO_DEADLINE
                        if new == _PROSPECT:
                            eligible_from[r, c] = m + cooloff_months + 1
                        if new == _SIGNED:
                            signed_month[r, c] = m
                            signings[r, t, g] += 1
                        if new == _ACTIVE and first_deal[r, c] == _NEVER:
                            first_deal[r, c] = m
                            run_rate[r, c] = potential[r, c]  # the first deal starts at potential
                            n_first += 1
                            if s == _DORMANT:
                                n_first_from_dormant += 1
                        # a recruit enters the lowest tier; a company leaving the channel carries tier 0
                        if _IN_CHANNEL[s]:
                            tier_counts[r, tt] -= 1
                        if not (_IN_CHANNEL[s] and _IN_CHANNEL[new]):
                            tier[r, c] = 0
                            tt = 0
                        if _IN_CHANNEL[new]:
                            tier_counts[r, tt] += 1
                        state[r, c] = new
                        counts[r, s, g] -= 1
                        counts[r, new, g] += 1
                        transitions[r, t, s, new] += 1
                        s = new
                # revenue by end-of-month state; the trailing 12 months as a running sum (exactly 0 once a
                # company has not earned for 12 months: its ring holds only zeros)
                rev = 0.0
                e = earn_t[s, g, tt]
                if e != 0.0:
                    rev = run_rate[r, c] * e
                    if ramp_months > 0:
                        fd = first_deal[r, c]
                        if fd >= 1 and m - fd < ramp_months:
                            rev *= min(ramp_start + (1.0 - ramp_start) * (m - fd) / ramp_months, 1.0)
                t12 = trailing[r, c] + (rev - ring[slot, r, c])
                ring[slot, r, c] = rev
                total += rev
                revenue_by_state[r, t, s, g, tt] += rev
                if rev > 0.0:
                    last_earned[r, c] = m
                elif m - last_earned[r, c] >= 12:
                    t12 = 0.0
                trailing[r, c] = t12
                t12_total += t12
                if grows[s]:
                    growers[n_growers] = c
                    n_growers += 1
                if measure:
                    member[c] = _IN_CHANNEL[s] or t12 > 0.0
                    if member[c]:
                        if t12 > 0.0:
                            n_earning += 1
                        if not is_ranked[r, c]:
                            joining[n_joining] = c
                            n_joining += 1
            # recruitment: the first `per_month` eligible prospects in fit order enter nurturing. Done after
            # the random moves, which cannot make anyone an eligible prospect this month (a company sent back
            # to the market is in its cool-off), so it is the selection by start-of-month states.
            picked = 0
            for c in range(partners, stop):
                if picked >= per_month:
                    break
                if state[r, c] == _PROSPECT and eligible_from[r, c] <= m:
                    g = segment[r, c]
                    state[r, c] = _NURTURING
                    entered[r, c] = m
                    deadline[r, c] = m + nurture_months
                    counts[r, _PROSPECT, g] -= 1
                    counts[r, _NURTURING, g] += 1
                    transitions[r, t, _PROSPECT, _NURTURING] += 1
                    picked += 1
            activations[r, t] = n_first
            reactivations[r, t] = transitions[r, t, _DORMANT, _ACTIVE] - n_first_from_dormant
            for s in range(S):
                for g in range(G):
                    counts_by_month[r, t, s, g] = counts[r, s, g]
            revenue[r, t] = total
            if m == year_ago_month:
                for c in range(width):
                    run_rate_year_ago[r, c] = run_rate[r, c]
            revenue_t12m[r, t] = t12_total
            for tt in range(n_tiers):
                tier_counts_charged[r, t, tt] = tier_counts[r, tt]
            if review_months > 0 and m % review_months == 0:
                # the tier review, at the end of the month: the highest tier whose threshold the trailing
                # 12 months reach (summed slot by slot, as the numpy kernel does); effective next month
                for tt in range(n_tiers):
                    tier_counts[r, tt] = 0
                for c in range(K):
                    if not _IN_CHANNEL[state[r, c]]:
                        continue
                    t12 = 0.0
                    for i in range(12):
                        t12 += ring[i, r, c]
                    new_tier = 0
                    for tt in range(1, n_tiers):
                        if t12 >= tier_thresholds[tt]:
                            new_tier += 1
                    old_tier = tier[r, c]
                    if new_tier > old_tier:
                        promotions_in[r, t, new_tier] += 1
                    elif new_tier < old_tier:
                        demotions_in[r, t, new_tier] += 1
                    tier[r, c] = new_tier
                    tier_counts[r, new_tier] += 1
            for tt in range(n_tiers):
                tier_counts_by_month[r, t, tt] = tier_counts[r, tt]
            if measure:
                n = _rank(ranked[r], n_ranked[r], is_ranked[r], member, joining[:n_joining], trailing[r])
                n_ranked[r] = n
                for k in range(n):
                    values[k] = trailing[r, ranked[r, k]]
                _measure(values[:n], n_earning, q, concentration[r, t])


@njit(cache=True, error_model="numpy")
def _rank(order, n_before, is_ranked, member, joining, value):
    """Keep ``order`` the members by ``value``, largest first: last month's order, less those who left, plus
    ``joining``, re-sorted by insertion (values move little in a month: nearly linear). Returns the count."""
    n = 0
    for k in range(n_before):
        c = order[k]
        if member[c]:
            order[n] = c
            n += 1
        else:
            is_ranked[c] = False
    for c in joining:
        order[n] = c
        is_ranked[c] = True
        n += 1
    if joining.shape[0] > 32:  # many newcomers (the first month): sort them all at once
        head = order[:n]
        order[:n] = head[np.argsort(-value[head])]
        return n
    for k in range(1, n):
        c = order[k]
        v = value[c]
        j = k - 1
        while j >= 0 and value[order[j]] < v:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = c
    return n


@njit(cache=True, error_model="numpy")
def _measure(y, n_earning, q, out):
    """Top-q share, Gini and HHI of ``y`` (members, largest first) among earning and all members, as
    ``concentration_rows`` computes them."""
    n_all = y.shape[0]
    total = 0.0
    weighted = 0.0
    squares = 0.0
    for k in range(n_all):
        total += y[k]
        weighted += y[k] * (k + 1)
        squares += y[k] * y[k]
    out[0] = n_earning
    out[1] = n_all
    out[2] = _top_share(y, n_earning, total, q)
    out[3] = _gini(n_earning, weighted, total)
    out[4] = squares / total**2 if total > 0 else np.nan
    out[5] = _top_share(y, n_all, total, q)
    out[6] = _gini(n_all, weighted, total)


@njit(inline="always", error_model="numpy")
def _top_share(y, n, total, q):
    if n <= 0 or not total > 0:
        return np.nan
    t = q * n
    whole = math.floor(t)
    frac = t - whole
    top = 0.0
    for k in range(min(whole, y.shape[0])):
        top += y[k]
    if whole < n:
        top = top + frac * y[min(whole, y.shape[0] - 1)]
    return min(top / total, 1.0)


@njit(inline="always", error_model="numpy")
def _gini(n, weighted, total):
    if n <= 0 or not total > 0:
        return np.nan
    if n == 1:
        return 0.0
    g = ((n + 1) - 2.0 * weighted / total) / (n - 1)
    return min(max(g, 0.0), 1.0)


# -- threads and the one-off compilation ---------------------------------------------------------


def set_threads(threads: int | None = None) -> int:
    """Run the compiled kernel on ``threads`` threads in this process (None: every core numba sees).

    Replications are independent and keyed by their index, so the numbers are the same on any count.
    """
    most = numba.config.NUMBA_NUM_THREADS
    n = most if threads is None else threads
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= most:
        raise ChannelError(f"threads must be a whole number 1 to {most} (the cores numba sees); got {threads!r}")
    numba.set_num_threads(int(n))
    return int(n)


#: Called once, before a process compiles the kernel (the CLI prints a one-line notice); None: silent.
announce: Callable[[], None] | None = None


def ensure_ready() -> None:
    """Before the first compiled call in this process: tell ``announce`` when numba's cache cannot serve it."""
    global announce
    if announce is not None and not draw_market.signatures and not cache_ready():
        notify, announce = announce, None
        notify()


def cache_ready() -> bool:
    """Whether numba's cache holds this environment's compiled kernel (no compilation on the next run)."""
    try:
        return all(bool(f._cache._cache_file._load_index()) for f in (run_months, draw_market))
    except (AttributeError, OSError):  # another numba's cache layout: assume it must compile
        return False


#: What compiling the kernel once took on the 2-core reference machine (benchmarks/results.md).
COMPILE_SECONDS = 60


def warm_up() -> float:
    """Compile (or load from the cache) the compiled kernel on a tiny scenario; the seconds it took."""
    from ..scenario import load_scenario
    from .kernel import ChannelKernel

    t0 = time.perf_counter()
    tiny = {"horizon_months": 2, "market": {"prospects": 4}, "channel": {"active": 2}}
    ChannelKernel(load_scenario(tiny), 0, [0], engine="compiled").run()
    return time.perf_counter() - t0
