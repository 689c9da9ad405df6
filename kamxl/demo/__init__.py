"""A realistic sample portfolio of account plans for `kamxl demo`.

The demo is the first thing a new user opens, so every sheet is filled with content a KAM
would recognise, in English or French, and every date is relative to ``today`` so the demo
always looks current. Plans are deterministic for a seed. Each account follows a profile that
shapes its numbers and its story (:mod:`kamxl.demo.profiles`).

The code tells the stories; what they say (names, places, texts, catalogues and the profiles'
ranges) is data in ``workbook_templates/demo/`` (:mod:`kamxl.demo.content`).
"""

from __future__ import annotations

from .portfolio import demo_plans, demo_portfolio
from .profiles import PROFILES

__all__ = ["PROFILES", "demo_plans", "demo_portfolio"]
