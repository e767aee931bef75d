"""齐鲁网济宁频道 — 济宁要闻 channel (`/jnyaowen/`, the 2017 template); today's channels are on the
2020 template (`-a start=<the channel's URL>`)."""

import re

from crawler.cms.base import MeetingSpider
from crawler.cms.iqilu import Iqilu2017, Iqilu2020

# County-level places of Jining: their news is listed in the channel but is not about
# meetings of the city government.
_LOCAL_AREAS = "任城|兖州|曲阜|邹城|微山|鱼台|金乡|嘉祥|汶上|泗水|梁山|高新区|太白湖|经开区|北湖"


class JiningSpider(MeetingSpider):
    name = "jining"
    allowed_domains = ["jining.iqilu.com", "jining.mirror.example"]
    start_urls = ["http://jining.iqilu.com/jnyaowen/"]
    # A third-party mirror serves the same pages in Traditional characters with pinyin.
    alias_hosts = {"jining.mirror.example": "jining.iqilu.com"}
    skip_titles = (("local_news", re.compile(rf"^(?:济宁)?(?:{_LOCAL_AREAS})")),)
    generations = (Iqilu2017(), Iqilu2020())
