# -*- coding: utf-8 -*-
# Copyright (c) strata.storage contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find mitogen's `mitogen_linear` strategy wherever the PyPI `mitogen` package is installed.

Point ANSIBLE_STRATEGY_PLUGINS at this folder and set ANSIBLE_STRATEGY=mitogen_linear
(see docs/vm.md); this is what mitogen's own plugins/strategy/mitogen_linear.py does,
without having to know the site-packages path.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import ansible_mitogen.loaders  # pylint: disable=import-error
import ansible_mitogen.strategy  # pylint: disable=import-error

Base = ansible_mitogen.loaders.strategy_loader.get('linear', class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, Base):
    """The linear strategy, run over mitogen's persistent interpreters."""
