"""烟台市莱山区人民政府 — 区政府会议 column on Hanweb JCMS."""

from crawler.cms.base import ArticleSelectors
from crawler.cms.hanweb import HanwebColumnSpider


class LaishanSpider(HanwebColumnSpider):
    name = "laishan"
    allowed_domains = ["www.ytlaishan.gov.cn"]
    start_urls = ["http://www.ytlaishan.gov.cn/col/col53951/index.html"]
    column_id = 53951
    unit_id = "244316"
    article = ArticleSelectors(
        title="div.bt-article-title",
        header=("table.xxgk_table tr", "div.bt-article-info span"),
        body="div#zoom p",
        breadcrumb="div.bt-position",
        attachments=("div#zoom a",),
    )
