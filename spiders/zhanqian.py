"""营口市站前区人民政府 — 政府会议 category of the Epoint info-disclosure platform."""

from crawler.cms.base import ArticleSelectors
from crawler.cms.epoint import EpointListSpider


class ZhanqianSpider(EpointListSpider):
    name = "zhanqian"
    allowed_domains = ["www.ykzq.gov.cn"]
    shell_url = "http://www.ykzq.gov.cn/govxxgk/zqqrmzf/openlist.html?categorynum=001003005"
    article = ArticleSelectors(
        title="h3.ewb-article-tt",
        header=("ul.ewb-article-list li p", "div.ewb-article-sources p"),
        body="div#infoContent div.ewb-article-info p",
        breadcrumb="div.ewb-location",
        attachments=("div#infoContent a", "div#attach a"),
    )
