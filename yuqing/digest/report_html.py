"""Report data -> a self-contained HTML page (inline CSS and SVG charts), the PDF's source too."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from yuqing.digest import charts, render, sections


def svgs(data: dict[str, Any]) -> dict[str, Markup]:
    """Every chart of a report by name; the docx embeds the same charts rasterised."""
    if data["kind"] == "event":
        unit = "每小时" if data["hourly"] else "每日"
        out = {"trend": charts.timeline(data["trend"], title=f"{unit}信息量（红色为负面）")}
        trace = data.get("trace")  # a 专报 stored before #15 has none
        if trace and trace["curve"]:
            out["reach"] = sections.reach_svg(trace["curve"], f"{data['event_title']} 传播量（转评赞）")
        return out
    out = {
        "trend": charts.timeline(data["trend"], title="每小时信息量" if data["kind"] == "day" else "每日信息量"),
        "topics": charts.bars(data["topics"][:10], title="话题分布"),
        "sources": charts.donut(data["sources"], title="来源分布"),
    }
    for e in data["events"]:
        out[f"event{e['id']}"] = charts.timeline(e["trend"], title=f"{e['title']} 走势")
        if e.get("reach_curve"):  # a report stored before #15 has none
            unit = "按小时" if e["reach_curve"][0]["label"].endswith("时") else "按日"
            out[f"reach{e['id']}"] = sections.reach_svg(e["reach_curve"], f"{e['title']} 传播量（转评赞，{unit}）")
    return out


def page(data: dict[str, Any], *, web: bool = False, formats: tuple[str, ...] = (), **extra: Any) -> str:
    template = "special.html" if data["kind"] == "event" else "report.html"
    return render.env().get_template(template).render(
        d=data, svgs=svgs(data), local=render._localtime_filter(data["timezone"]), web=web, title=data["title"],
        formats=formats, base="", **extra)
