"""The README's ready [[sources]] blocks (RSSHub routes for what the presets cannot do) are valid config."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from yuqing import settings as settings_mod

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_sources_blocks_load_as_config():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Sources"):text.index("## Analysis")]
    blocks = re.findall(r"```toml\n(.*?)```", section, re.S)
    assert blocks, "the Sources section has no [[sources]] block"
    raw = tomllib.loads("".join(blocks))
    settings = settings_mod.from_dict({"locality": {"name": "芦山县"}, "sources": raw["sources"]})
    urls = {s.url for s in settings.sources}
    for route in ("/weibo/keyword/", "/baidu/tieba/forum/", "/baidu/tieba/search/", "/wechat/", "/people/liuyan/539/2"):
        assert any(route in u for u in urls), route
    assert all(s.type == "feed" and s.title for s in settings.sources)
