"""Class analytics: per question, levels, factor coverage by class, missing factors, flags, and
how far the automatic marks agree with teachers' reviews. Filtered by class and date like the dashboard."""

from __future__ import annotations

from dataclasses import replace

from flask import render_template, request

from ...storage.queries import Filters, filter_choices, find_all
from ..views import rubrics
from . import bp
from .figures import question_figures
from .svg import coverage_heatmap, level_distribution


@bp.get("/analytics")
def analytics():
    """Per-question figures and charts over the essays matching the class/date filters (every attempt counts)."""
    base = Filters.from_args(request.args)
    base = Filters(class_code=base.class_code, date_from=base.date_from, date_to=base.date_to)
    sections = []
    for qid, rubric in rubrics().items():
        fig = question_figures(rubric, find_all(replace(base, question=qid)))
        sections.append({
            "fig": fig,
            "levels_svg": level_distribution(fig.auto_levels, fig.teacher_levels if fig.reviewed else None),
            "heatmap": coverage_heatmap(fig.factors, fig.classes) if fig.n else None,
        })
    return render_template("teacher/analytics.html", f=base, sections=sections, classes=filter_choices()["classes"])
