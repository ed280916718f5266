# -*- coding: utf-8 -*-
# Copyright: strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a planner hands back: the ordered actions, before/after state, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plan:
    actions: list = field(default_factory=list)    # runner.Action, in order
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)      # predicted; the module re-reads after a real run
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)      # decisions worth telling (e.g. relative size kept)

    @property
    def changed(self):
        return bool(self.actions)

    def add(self, action):
        self.actions.append(action)
        return action
