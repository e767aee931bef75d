"""营口市人民政府 today: Epoint WebBuilder under ``/EWB_YK_Mid`` (CONFIRMED, GENERATIONS.md).

Facts: the shell ``/dynamic/zw/openlist.html?categorynum=…``, the project path, the wrapped
body (``{"token":"","params":{…}}``; one public spider sends ``pageIndex`` as a string and no
token), categories ``001001003001``…``005``, disclosure pages under ``/govxxgk/ykszf/``, 常务会议
reports also published as news.  Invented (docs/replica.md): that ``001001003004`` is the meeting
column, the siteGuid (a sub-site's own, not Epoint's default), the news path ``/001/002/``, the
breadcrumbs, the page size, that the parameters sit in ``/js/webBuilderCommon.js``'s
``siteInfo`` and the list request in the shell's inline script; per seed, whether a token is sent.
"""

from __future__ import annotations

from .epoint import EpointSite


class YingkouEpoint(EpointSite):
    portal = "yingkou"
    site_name = "营口市人民政府"
    project = "/EWB_YK_Mid"
    site_guid = "4c1d9a7e-52b3-4f60-9e8d-1a7b3c5e2f94"
    deptcode = ""
    disclosure_dept = "ykszf"
    categorynum = "001001003004"
    column_prefix = "001001003"
    news_groups = "001/002"
    page_size = 15
    cut = 20
    news_share = 0.5
    params_script = "webBuilderCommon.js"
    publisher = "营口市人民政府办公室"
    disclosure_crumbs = ("首页", "政府信息公开", "法定主动公开内容", "政府会议")
    news_crumbs = ("首页", "新闻中心", "政务要闻")
    seed_body = ("</style>\r\n", "</div><!--<$[信息内容]>end-->")
    seed_encoding = "gbk"

    def choose_variant(self, rng) -> None:
        self.wrapped = True
        self.index_str = True
        self.token = rng.random() < 0.5


SITE = YingkouEpoint
