"""The Mesa face of the engine: :class:`ChannelModel` over the vectorized kernel.

``ChannelModel(scenario=..., seed=...)`` is a real :class:`mesa.Model`: one
step is one month, every company is a :class:`~simulator.agents.Partner`
agent, a :class:`mesa.DataCollector` records the monthly figures under the
names of :attr:`SimulationResult.monthly` columns, and ``running`` turns
False at the horizon. Underneath, one kernel block holding a single
replication does the work, so ``run_model()`` reproduces replication
``replication`` of ``simulate(scenario, seed=seed)`` exactly.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd

from .agents import Partner
from .engine.kernel import MONTHLY_COLUMNS, ChannelKernel
from .engine.results import check_seed, monthly_frame, partner_frame
from .lifecycle.states import State
from .scenario.loading import ScenarioLike, load_scenario
from .scenario.schema import Scenario
from .validation import Whole


def monthly_figure(model: ChannelModel, column: str) -> float | int:
    """Model reporter: one column of the monthly table at the current month."""
    return model.kernel.record[column][0, model.kernel.month].item()


class ChannelModel(mesa.Model):
    """The channel of one vendor, month by month, for one replication.

    Args:
        scenario: a Scenario, a YAML path or a dict (default: MODEL.md defaults).
        seed: the run's seed; the same seed gives the same numbers as
            ``simulate(scenario, seed=seed)`` replication ``replication``.
            None draws a fresh seed (kept in ``model.seed``).
        replication: which replication's random stream to use.
        **overrides: ``section__key=value`` scenario overrides, e.g.
            ``activation__window_months=9``.
    """

    def __init__(
        self,
        scenario: ScenarioLike | None = None,
        seed: int | None = None,
        replication: int = 0,
        **overrides: Any,
    ) -> None:
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1)
        seed = check_seed(seed)
        replication = Whole(0)("replication", replication)
        super().__init__(rng=seed)
        source = scenario if scenario is not None else Scenario()
        self.scenario = load_scenario(source, **overrides)
        self.seed = seed
        self.replication = int(replication)
        self.kernel = ChannelKernel(self.scenario, seed, [self.replication])
        for column in range(self.kernel.layout.companies):
            Partner(self, column)
        self.datacollector = mesa.DataCollector(
            model_reporters={c: partial(monthly_figure, column=c) for c in MONTHLY_COLUMNS}
        )
        self.running = not self.kernel.done
        self.datacollector.collect(self)

    @property
    def scenario(self) -> Scenario:
        """The channel scenario this model runs."""
        return self._channel_scenario

    @scenario.setter
    def scenario(self, value: Any) -> None:
        # Mesa >= 3.5 keeps its own experiment object under this name; the channel scenario is the one exposed.
        if isinstance(value, Scenario):
            self._channel_scenario = value
        else:
            self._mesa_scenario = value

    @property
    def month(self) -> int:
        return self.kernel.month

    def step(self) -> None:
        """One month for every company at once."""
        if self.kernel.done:
            self.running = False
            return
        self.kernel.step()
        self.datacollector.collect(self)
        self.running = not self.kernel.done

    def partners_in(self, state: State | str) -> list[Partner]:
        """Agents currently in a state."""
        state = State.from_label(state) if isinstance(state, str) else state
        return [a for a in self.agents if isinstance(a, Partner) and a.state is state]

    @property
    def monthly(self) -> pd.DataFrame:
        """This run's monthly table so far (same columns as ``simulate(...).monthly``)."""
        return monthly_frame(self.kernel)

    @property
    def scorecard(self) -> pd.DataFrame:
        """Partner scorecard at the current month."""
        return partner_frame(self.kernel)
