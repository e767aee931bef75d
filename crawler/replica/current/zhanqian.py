"""营口市站前区人民政府 today: Epoint with its site parameters in its scripts (GENERATIONS.md).

Facts: disclosure pages under ``/govxxgk/zqqrmzf/`` (2021–2026), the project path and siteGuid
not known (so read at run time), district sites adding ``&deptcode=…`` to the shell URL,
``/js/ajaxReq.js`` holding ``"siteGuid"`` and the flat body on a sibling site (Xuzhou).
Invented (docs/replica.md): the project path ``/Epoint-MiddleForWeb`` (one of the known ones),
the siteGuid, the news path ``/002/001/``, the page size 12, the breadcrumbs, the news share;
per seed, whether ``pageIndex``/``pageSize`` go as strings.  The meeting column keeps the
archive's categorynum ``001003005``, and a disclosure page keeps its archive URL (the same
``/govxxgk/zqqrmzf/<date>/<uuid>.html``): an Epoint-to-Epoint upgrade.
"""

from __future__ import annotations

from .epoint import EpointSite


class ZhanqianEpoint(EpointSite):
    portal = "zhanqian"
    site_name = "营口市站前区人民政府"
    project = "/Epoint-MiddleForWeb"
    site_guid = "d8e41f2a-7c06-4b95-83ea-5f1c0b9d6a27"
    deptcode = "zqqrmzf"
    disclosure_dept = "zqqrmzf"
    categorynum = "001003005"
    column_prefix = "001003"
    news_groups = "002/001"
    page_size = 12
    cut = 18
    news_share = 0.3
    params_script = "ajaxReq.js"
    publisher = "站前区人民政府办公室"
    disclosure_crumbs = ("首页", "政务公开", "政府会议")
    news_crumbs = ("首页", "站前要闻", "政务动态")
    seed_body = ('<div class="ewb-article-info">\n', "                </div>\n            </div>")

    def choose_variant(self, rng) -> None:
        self.wrapped = False
        self.token = False
        self.index_str = rng.random() < 0.5

    def uid_of(self, e, rng) -> str:
        # The archive's article ids are already UUIDs: a disclosure page keeps its URL.
        return e.uid


SITE = ZhanqianEpoint
